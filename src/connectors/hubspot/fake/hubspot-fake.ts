import type { FastifyInstance } from 'fastify';
import { checkTimeZone } from '../../../resilience/calendar-day.js';
import {
  type FakeKit,
  type FakeProvider,
  type FakeServerOptions,
  type RunningFake,
  startFakeServer,
} from '../../fake-kit/index.js';
import { type HubSpotTier, TIERS } from '../limits.js';
import { associationRoutes } from './association-routes.js';
import { AssociationStore } from './association-store.js';
import { batchRoutes } from './batch-routes.js';
import { CrmStore } from './crm-store.js';
import type { FakeContext } from './fake-context.js';
import { AUTH_MISSING, sendError } from './fake-errors.js';
import { objectRoutes } from './object-routes.js';
import { defaultOwners, ownerAndSchemaRoutes } from './owner-schema-routes.js';
import { Cursors } from './paging.js';
import { propertyRoutes } from './property-routes.js';
import { RateBuckets } from './rate-buckets.js';
import { searchRoutes } from './search-routes.js';
import { type HubSpotSeed, seedCrm } from './seed.js';
import { webhookRoutes } from './webhook-routes.js';
import { seededRandom, WebhookSender } from './webhook-sender.js';

export interface HubSpotFakeOptions extends FakeServerOptions {
  /** The account's subscription: its 10 s and daily limits. Defaults to `starter`. */
  tier?: HubSpotTier;
  /** Accept only this bearer token. Defaults to any. */
  token?: string;
  /** Records made at start (and again on reset): a number of contacts (with a tenth as many companies and deals), or a seed. */
  seed?: number | HubSpotSeed;
  /** The account's zone: its midnight resets the daily count. Defaults to UTC. */
  timeZone?: string;
  /** Defaults to 62515. */
  portalId?: number;
  /** The app whose webhooks the fake sends. Defaults to 54321. */
  appId?: number;
  /** The app's client secret, which signs its webhooks. Defaults to the one `GET /_fake` lists. */
  clientSecret?: string;
  /** How long a write takes to reach search, in ms. Defaults to 1 s. */
  searchLagMs?: number;
  /** How long a list cursor stays valid, in ms. Defaults to 30 min. */
  cursorTtlMs?: number;
  /** Associations one record may have to one other type. Defaults to 10,000. */
  associationLimit?: number;
  webhooks?: {
    /** Share of events sent twice. Defaults to 0.05. */
    duplicateRate?: number;
    /** Shuffle each post's events. Defaults to true. */
    reorder?: boolean;
    /** A post not answered within this is a failure, in ms. Defaults to 5 s (HubSpot's). */
    timeoutMs?: number;
    /** Seed of the duplicates, order and retry jitter. Defaults to 1. */
    randomSeed?: number;
  };
}

export const DEFAULT_CLIENT_SECRET = 'patchbay-fake-hubspot-client-secret';

export interface HubSpotFake extends FakeProvider {
  readonly store: CrmStore;
  readonly associations: AssociationStore;
  readonly buckets: RateBuckets;
  readonly webhooks: WebhookSender;
  readonly clientSecret: string;
  readonly appId: number;
  readonly portalId: number;
}

/** The HubSpot CRM as the fake serves it; see `docs/connectors/hubspot.md` for what it reproduces. */
export function hubspotFake(options: HubSpotFakeOptions = {}): HubSpotFake {
  const tier = options.tier ?? 'starter';
  if (!TIERS.includes(tier)) throw new Error(`tier must be one of ${TIERS.join(', ')} (got ${String(tier)})`);
  const timeZone = checkTimeZone('timeZone', options.timeZone ?? 'UTC');
  const portalId = options.portalId ?? 62515;
  const appId = options.appId ?? 54321;
  const clientSecret = options.clientSecret ?? DEFAULT_CLIENT_SECRET;
  const tunables = {
    searchLagMs: options.searchLagMs ?? 1000,
    cursorTtlMs: options.cursorTtlMs ?? 30 * 60_000,
    associationLimit: options.associationLimit ?? 10_000,
  };
  const initialSeed: HubSpotSeed | undefined =
    typeof options.seed === 'number'
      ? {
          contacts: options.seed,
          companies: Math.ceil(options.seed / 10),
          deals: Math.ceil(options.seed / 10),
        }
      : options.seed;

  let kit: FakeKit | undefined;
  const now = () => kit?.clock.now() ?? Date.now();
  const store = new CrmStore(portalId, now, () => tunables.searchLagMs);
  const associations = new AssociationStore(() => tunables.associationLimit);
  const buckets = new RateBuckets(tier, timeZone, now);
  let owners = defaultOwners(new Date().toISOString());
  let webhooks: WebhookSender | undefined;
  const sender = (k: FakeKit) =>
    (webhooks ??= new WebhookSender({
      portalId,
      appId,
      clientSecret,
      clock: k.clock,
      duplicateRate: options.webhooks?.duplicateRate ?? 0.05,
      reorder: options.webhooks?.reorder ?? true,
      timeoutMs: options.webhooks?.timeoutMs ?? 5000,
      gatherMs: 100,
      random: seededRandom(options.webhooks?.randomSeed ?? 1),
    }));
  store.onChange((change) => webhooks?.observe(change));
  const seedStart = () => {
    if (initialSeed) seedCrm(store, associations, initialSeed, now());
  };
  seedStart();

  const provider: HubSpotFake = {
    name: 'hubspot',
    store,
    associations,
    buckets,
    clientSecret,
    appId,
    portalId,
    get webhooks() {
      if (!webhooks) throw new Error('the HubSpot fake has not started');
      return webhooks;
    },

    routes(app: FastifyInstance, k: FakeKit) {
      kit = k;
      const ctx: FakeContext = {
        kit: k,
        store,
        associations,
        cursors: new Cursors(
          () => k.clock.now(),
          () => tunables.cursorTtlMs,
        ),
      };
      app.addHook('onRequest', async (request, reply) => {
        const path = request.url.split('?')[0]!;
        if (path.startsWith('/_fake') || path.startsWith('/webhooks/v3/')) return;
        const auth = request.headers.authorization ?? '';
        const match = /^Bearer\s+(\S+)$/i.exec(auth);
        if (!match || (options.token !== undefined && match[1] !== options.token)) {
          return sendError(reply, 401, AUTH_MISSING, 'INVALID_AUTHENTICATION');
        }
        const isSearch = request.method === 'POST' && /^\/crm\/v3\/objects\/[^/]+\/search$/.test(path);
        const admission = buckets.admit(match[1]!, isSearch);
        k.count(`bucket:${isSearch ? 'search' : 'tenSecondly'}`);
        if (!admission.admitted) {
          k.count(`429:${admission.body.policyName}`);
          return reply
            .status(429)
            .headers(admission.headers)
            .type('application/json;charset=utf-8')
            .send(admission.body);
        }
        reply.headers(admission.headers);
      });
      app.setNotFoundHandler((request, reply) =>
        sendError(
          reply,
          404,
          `No route for ${request.method} ${request.url.split('?')[0]}`,
          'OBJECT_NOT_FOUND',
        ),
      );
      objectRoutes(app, ctx);
      batchRoutes(app, ctx);
      searchRoutes(app, ctx);
      propertyRoutes(app, ctx);
      associationRoutes(app, ctx, () => tunables.associationLimit);
      ownerAndSchemaRoutes(app, ctx, () => owners);
      webhookRoutes(app, ctx, sender(k), appId);
    },

    describe() {
      return {
        portalId,
        appId,
        tier: buckets.tier,
        limits: buckets.limits,
        timeZone,
        auth:
          options.token === undefined
            ? 'any bearer token'
            : 'only the bearer token the fake was started with',
        developerApiKey: 'any hapikey (webhook settings and subscriptions)',
        webhooks: { clientSecret, signatures: ['v3', 'v1'], targetUrl: webhooks?.targetUrl ?? null },
        objectTypes: store.allTypes().map((s) => s.type.name),
        ...tunables,
      };
    },

    reset() {
      store.reset();
      associations.reset();
      buckets.reset();
      buckets.tier = tier;
      webhooks?.reset();
      owners = defaultOwners(new Date(now()).toISOString());
      seedStart();
    },

    seed(input: unknown) {
      const seed = (input ?? {}) as HubSpotSeed &
        Partial<typeof tunables> & { tier?: HubSpotTier; dailyRemaining?: number };
      if (seed.tier !== undefined) {
        if (!TIERS.includes(seed.tier)) throw new Error(`tier must be one of ${TIERS.join(', ')}`);
        buckets.tier = seed.tier;
      }
      if (typeof seed.dailyRemaining === 'number') buckets.setDailyRemaining(seed.dailyRemaining);
      for (const key of ['searchLagMs', 'cursorTtlMs', 'associationLimit'] as const) {
        if (typeof seed[key] === 'number') tunables[key] = seed[key];
      }
      return seedCrm(store, associations, seed, now());
    },

    stats() {
      return {
        buckets: buckets.stats,
        objects: Object.fromEntries(store.allTypes().map((s) => [s.type.name, s.records.size])),
        webhooks: webhooks ? { ...webhooks.stats, pending: webhooks.pendingEvents } : undefined,
      };
    },

    close() {
      webhooks?.close();
    },
  };
  return provider;
}

export interface RunningHubSpotFake extends RunningFake {
  readonly hubspot: HubSpotFake;
}

/** Starts the HubSpot fake on 127.0.0.1 (`patchbay fake hubspot`). */
export async function startHubSpotFake(options: HubSpotFakeOptions = {}): Promise<RunningHubSpotFake> {
  const hubspot = hubspotFake(options);
  const running = await startFakeServer(hubspot, options);
  return Object.assign(running, { hubspot });
}
