import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type FakeKit, type FixedWindows, INVALID_JSON } from '../../fake-kit/index.js';
import { facilityType, partyGroupType, productType } from './catalog.js';
import { toColumns } from './column-major.js';
import type { FinaleAuth } from './finale-auth.js';
import { COLLECTIONS, type Collection, type FinaleStore } from './finale-store.js';
import { applyFilter, decodeFilter, FilterError } from './list-filter.js';
import { orderType, shipmentType } from './orders.js';
import { FinaleError, type Input, type ResourceType, view } from './resource-type.js';
import { varianceType } from './variances.js';

export const TYPES: Readonly<Record<Collection, ResourceType>> = {
  product: productType,
  facility: facilityType,
  partygroup: partyGroupType,
  order: orderType,
  inventoryvariance: varianceType,
  shipment: shipmentType,
};

const MAX_ENTITIES = 120_000;
const STOCK_FIELDS = [
  'productId',
  'productUrl',
  'facilityUrl',
  'lotId',
  'normalizedPackingString',
  'orderUrl',
  'quantityOnHand',
  'quantityOnOrder',
  'quantityReserved',
] as const;

export interface RouteState {
  store: FinaleStore;
  auth: FinaleAuth;
  limits: FixedWindows<'GET' | 'POST'>;
}

const sendError = (reply: FastifyReply, status: number, message: string) =>
  reply.status(status).type('application/json').send({ errorMessage: message });

/**
 * Finale's REST API under `/{account}/api/`: GET reads, POST creates (to a collection) and updates (to
 * an entity's URL) — there is no PUT —, state changes are POSTs to action URLs with an empty body.
 * Lists are column-major, filter with `?filter=<base64 JSON>` and stop at `limit`; `inventoryitem` is
 * derived from stock and cannot be filtered. 120 GETs and 120 POSTs a minute per account.
 */
export function finaleRoutes(app: FastifyInstance, state: RouteState, k: FakeKit): void {
  const { store, auth, limits } = state;
  const base = `/${store.account}/api`;

  /** Rate limit, then credentials; returns the body to use (the session secret taken out) or undefined once answered. */
  const admit = (request: FastifyRequest, reply: FastifyReply, login = false): Input | undefined | false => {
    const method = request.method === 'GET' ? 'GET' : 'POST';
    const answer = limits.take(store.account, method, k.clock.now());
    reply.headers({
      'x-ratelimit-limit': String(answer.limit),
      'x-ratelimit-remaining': String(answer.remaining),
      'x-ratelimit-reset': String(Math.ceil(answer.resetAt / 1000)),
    });
    if (!answer.allowed) {
      k.count(`429:${method}`);
      sendError(reply, 429, `Rate limit exceeded: ${answer.limit} ${method} requests per minute`);
      return false;
    }
    let body: Input | undefined;
    if (request.method === 'POST' && request.body !== undefined) {
      if (
        request.body === INVALID_JSON ||
        typeof request.body !== 'object' ||
        Array.isArray(request.body) ||
        Buffer.isBuffer(request.body)
      ) {
        sendError(reply, 400, 'The request body must be a JSON object');
        return false;
      }
      body = { ...(request.body as Input) };
    }
    if (login) return body ?? {};
    const outcome = auth.check(request, store.account, body);
    if (!outcome.ok) {
      sendError(reply, outcome.status, outcome.message);
      return false;
    }
    if (body) delete body.sessionSecret;
    return body ?? {};
  };

  const typeOf = (request: FastifyRequest, reply: FastifyReply): ResourceType | undefined => {
    const collection = (request.params as { collection: string }).collection as Collection;
    if (!COLLECTIONS.includes(collection)) {
      sendError(reply, 404, `Unknown resource ${collection}`);
      return undefined;
    }
    return TYPES[collection];
  };

  const run = (reply: FastifyReply, fn: () => unknown) => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof FinaleError) return sendError(reply, error.status, error.message);
      throw error;
    }
  };

  app.post(`${base}/auth`, async (request, reply) => {
    const body = admit(request, reply, true);
    if (body === false) return reply;
    const session = auth.login(body);
    if (!session) return sendError(reply, 401, 'Invalid username or password');
    reply.header('set-cookie', `JSESSIONID=${session.sessionId}; Path=/${store.account}; HttpOnly`);
    return {
      sessionSecret: session.sessionSecret,
      resourceProduct: `${base}/product`,
      resourceFacilityUrl: `${base}/facility`,
      resourceInventoryItem: `${base}/inventoryitem`,
      resourceInventoryVariance: `${base}/inventoryvariance`,
      resourceOrder: `${base}/order`,
      resourcePartyGroup: `${base}/partygroup`,
      resourceShipment: `${base}/shipment`,
    };
  });

  app.get(`${base}/inventoryitem`, async (request, reply) => {
    if (admit(request, reply) === false) return reply;
    const query = request.query as { filter?: string; limit?: string };
    if (query.filter !== undefined) return sendError(reply, 400, 'inventoryitem cannot be filtered');
    const rows = [...store.stock.values()].map(({ key, quantity }) => ({
      productId: store.byUrl('product', key.productUrl)?.productId ?? null,
      productUrl: key.productUrl,
      facilityUrl: key.facilityUrl,
      lotId: key.lotId,
      normalizedPackingString: key.normalizedPackingString,
      orderUrl: key.orderUrl,
      quantityOnHand: 0,
      quantityOnOrder: 0,
      quantityReserved: 0,
      [key.kind]: quantity,
    }));
    const limit = limitOf(query.limit, reply);
    if (limit === false) return reply;
    return toColumns(rows.slice(0, limit), STOCK_FIELDS);
  });

  app.get(`${base}/:collection`, async (request, reply) => {
    if (admit(request, reply) === false) return reply;
    const type = typeOf(request, reply);
    if (!type) return reply;
    const query = request.query as { filter?: string; limit?: string };
    const limit = limitOf(query.limit, reply);
    if (limit === false) return reply;
    let rows = store.list(type.collection);
    if (query.filter !== undefined) {
      try {
        rows = applyFilter(rows, decodeFilter(query.filter), type.scalars, k.clock.now());
      } catch (error) {
        if (error instanceof FilterError) return sendError(reply, 400, error.message);
        throw error;
      }
    }
    return toColumns(
      rows.slice(0, Math.min(limit, MAX_ENTITIES)).map((e) => view(type, e)),
      type.fields,
    );
  });

  app.post(`${base}/:collection`, async (request, reply) => {
    const body = admit(request, reply);
    if (body === false) return reply;
    const type = typeOf(request, reply);
    if (!type) return reply;
    if (!type.create) return sendError(reply, 405, `${type.collection} cannot be created through the API`);
    return run(reply, () => {
      const id = type.create!(body!, store);
      k.count(`created:${type.collection}`);
      return view(type, store.get(type.collection, id)!);
    });
  });

  app.get(`${base}/:collection/:id`, async (request, reply) => {
    if (admit(request, reply) === false) return reply;
    const type = typeOf(request, reply);
    if (!type) return reply;
    const entity = store.get(type.collection, (request.params as { id: string }).id);
    if (!entity)
      return sendError(reply, 404, `${type.collection} ${(request.params as { id: string }).id} not found`);
    return view(type, entity);
  });

  app.post(`${base}/:collection/:id`, async (request, reply) => {
    const body = admit(request, reply);
    if (body === false) return reply;
    const type = typeOf(request, reply);
    if (!type) return reply;
    const entity = store.get(type.collection, (request.params as { id: string }).id);
    if (!entity)
      return sendError(reply, 404, `${type.collection} ${(request.params as { id: string }).id} not found`);
    if (!type.update) return sendError(reply, 405, `${type.collection} cannot be changed through the API`);
    return run(reply, () => {
      type.update!(entity, body!, store);
      return view(type, entity);
    });
  });

  app.post(`${base}/:collection/:id/:action`, async (request, reply) => {
    if (admit(request, reply) === false) return reply;
    const type = typeOf(request, reply);
    if (!type) return reply;
    const { id, action: name } = request.params as { id: string; action: string };
    const entity = store.get(type.collection, id);
    if (!entity) return sendError(reply, 404, `${type.collection} ${id} not found`);
    const action = type.actions?.[name];
    if (!action) return sendError(reply, 404, `${type.collection} has no action ${name}`);
    if (!action.available(entity)) {
      return sendError(
        reply,
        400,
        `${name} is not available for ${type.collection} ${id} in status ${String(entity.statusId)}`,
      );
    }
    return run(reply, () => {
      action.run(entity, store);
      store.touch(entity);
      k.count(`action:${type.collection}.${name}`);
      return view(type, entity);
    });
  });
}

function limitOf(value: string | undefined, reply: FastifyReply): number | false {
  if (value === undefined) return MAX_ENTITIES;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    sendError(reply, 400, 'limit must be a whole number ≥ 1');
    return false;
  }
  return n;
}
