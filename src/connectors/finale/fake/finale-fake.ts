import type { FastifyInstance } from 'fastify';
import {
  type FakeKit,
  type FakeProvider,
  type FakeServerOptions,
  FixedWindows,
  type PeriodLimit,
  type RunningFake,
  startFakeServer,
} from '../../fake-kit/index.js';
import { seedPrimary } from './catalog.js';
import { FinaleAuth } from './finale-auth.js';
import { finaleRoutes, TYPES } from './finale-routes.js';
import { type Collection, FinaleStore } from './finale-store.js';
import { FinaleError } from './resource-type.js';

export interface FinaleFakeOptions extends FakeServerOptions {
  /** The account in every URL (`/{account}/api/…`). Defaults to `demo`. */
  account?: string;
  /** The API key registration Basic auth accepts. Defaults to `fake-api-key` / `fake-api-secret`. */
  apiKey?: string;
  apiSecret?: string;
  /** The user the legacy session login accepts. Defaults to `fake-user` / `fake-password`. */
  username?: string;
  password?: string;
  /** Requests per minute per account, for GETs and for POSTs. Defaults to 120 each. */
  limits?: Partial<Record<'GET' | 'POST', PeriodLimit>>;
}

export interface RunningFinaleFake extends RunningFake {
  /** `http://127.0.0.1:<port>/<account>/api`: the account-scoped base every URL hangs off. */
  readonly apiUrl: string;
  readonly account: string;
}

export interface FinaleSeed {
  facilities?: { facilityName: string }[];
  suppliers?: { groupName: string }[];
  products?: { productId: string; internalName?: string }[];
  /** Stock on hand to put in place (as if a variance had been committed long ago). */
  stock?: { productId: string; facilityName: string; quantity: number }[];
  keys?: { key: string; secret: string }[];
}

const DEFAULT_LIMITS = { GET: { limit: 120, periodMs: 60_000 }, POST: { limit: 120, periodMs: 60_000 } };

/**
 * Finale Inventory as the fake serves it: an account-scoped REST API with Basic and session auth,
 * products, facilities, party groups (suppliers…), purchase and sales orders with their status
 * machine and action URLs, inventory variances (commit/cancel) and the stock they move, listed as
 * `inventoryitem` rows (one non-zero quantity each). Stateful; every account starts with its `PRIMARY`
 * party and a `Main Warehouse`. There is no SDK: it is tested with plain HTTP, as the docs describe.
 */
export function finaleFake(
  options: FinaleFakeOptions = {},
): FakeProvider & { store(): FinaleStore | undefined } {
  const account = options.account ?? 'demo';
  let store: FinaleStore | undefined;
  let auth: FinaleAuth | undefined;
  const limits = new FixedWindows<'GET' | 'POST'>({ ...DEFAULT_LIMITS, ...options.limits });
  const credentials = {
    key: options.apiKey ?? 'fake-api-key',
    secret: options.apiSecret ?? 'fake-api-secret',
    username: options.username ?? 'fake-user',
    password: options.password ?? 'fake-password',
  };
  const initial = (s: FinaleStore) => {
    seedPrimary(s);
    TYPES.facility.create!({ facilityName: 'Main Warehouse' }, s);
  };

  return {
    name: 'finale',
    store: () => store,
    routes(app: FastifyInstance, k: FakeKit) {
      if (!store) {
        store = new FinaleStore(account, () => k.clock.now());
        initial(store);
        auth = new FinaleAuth(k.clock, credentials);
      }
      app.setNotFoundHandler((request, reply) =>
        reply
          .status(404)
          .send({ errorMessage: `No resource at ${request.method} ${request.url.split('?')[0]}` }),
      );
      app.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
        const status = error.statusCode ?? 500;
        reply.status(status).send({ errorMessage: status < 500 ? 'Bad request' : 'Internal error' });
      });
      finaleRoutes(app, { store, auth: auth!, limits }, k);
      app.post('/_fake/stock', async (request, reply) => {
        const input = request.body as
          | { productId?: unknown; facilityUrl?: unknown; delta?: unknown }
          | undefined;
        const product =
          typeof input?.productId === 'string' ? store!.get('product', input.productId) : undefined;
        const facility = store!.byUrl('facility', input?.facilityUrl);
        if (!product || !facility || typeof input?.delta !== 'number') {
          return reply
            .status(400)
            .send({ error: 'send { "productId", "facilityUrl", "delta" } naming a product and facility' });
        }
        // Planted: no variance, no lastUpdatedDate — a difference only a full comparison finds.
        store!.addStock(
          {
            facilityUrl: facility.facilityUrl as string,
            productUrl: product.productUrl as string,
            lotId: null,
            normalizedPackingString: null,
            orderUrl: null,
            kind: 'quantityOnHand',
          },
          input.delta,
        );
        return {
          planted: { productId: product.productId, facilityUrl: facility.facilityUrl, delta: input.delta },
        };
      });
    },
    describe() {
      return {
        account,
        apiBase: `/${account}/api`,
        basicAuth: { key: credentials.key, secret: credentials.secret },
        sessionLogin: {
          url: `/${account}/api/auth`,
          username: credentials.username,
          password: credentials.password,
        },
        limits: limits.current(),
        extra: ['POST /_fake/stock'],
      };
    },
    reset() {
      store?.clear();
      if (store) initial(store);
      auth?.reset();
      limits.configure({ ...DEFAULT_LIMITS, ...options.limits });
    },
    seed(input: unknown) {
      const seed = (input ?? {}) as FinaleSeed;
      const s = store!;
      const made: Record<string, string[]> = { facilities: [], suppliers: [], products: [] };
      const create = (collection: Collection, body: Record<string, unknown>) => {
        try {
          const id = TYPES[collection].create!(body, s);
          return s.get(collection, id)!;
        } catch (error) {
          if (error instanceof FinaleError) throw new Error(`seed ${collection}: ${error.message}`);
          throw error;
        }
      };
      for (const f of seed.facilities ?? [])
        made.facilities!.push(create('facility', f).facilityUrl as string);
      for (const p of seed.suppliers ?? []) {
        made.suppliers!.push(create('partygroup', { ...p, roleTypeIdList: ['SUPPLIER'] }).partyId as string);
      }
      for (const p of seed.products ?? []) made.products!.push(create('product', p).productUrl as string);
      for (const row of seed.stock ?? []) {
        const facility = s.list('facility').find((f) => f.facilityName === row.facilityName);
        const product = s.get('product', row.productId);
        if (!facility || !product)
          throw new Error(`seed stock: no facility ${row.facilityName} or product ${row.productId}`);
        s.addStock(
          {
            facilityUrl: facility.facilityUrl as string,
            productUrl: product.productUrl as string,
            lotId: null,
            normalizedPackingString: null,
            orderUrl: null,
            kind: 'quantityOnHand',
          },
          row.quantity,
        );
      }
      for (const { key, secret } of seed.keys ?? []) auth!.keys.set(key, secret);
      return made;
    },
    stats() {
      const s = store;
      if (!s) return {};
      const onHand: Record<string, number> = {};
      for (const { key, quantity } of s.stock.values()) {
        if (key.kind === 'quantityOnHand')
          onHand[key.facilityUrl] = (onHand[key.facilityUrl] ?? 0) + quantity;
      }
      return {
        entities: Object.fromEntries([...s.entities].map(([c, m]) => [c, m.size])),
        stockRows: s.stock.size,
        onHandByFacility: onHand,
      };
    },
  };
}

/** Starts the Finale fake on 127.0.0.1 (see `finaleFake`). */
export async function startFinaleFake(options: FinaleFakeOptions = {}): Promise<RunningFinaleFake> {
  const account = options.account ?? 'demo';
  const running = await startFakeServer(finaleFake(options), options);
  return { ...running, account, apiUrl: `${running.url}/${account}/api` };
}
