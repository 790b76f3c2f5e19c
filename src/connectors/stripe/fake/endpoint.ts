import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StripeFakeContext } from './context.js';
import { canonical, type Params, ParamsError, parseParams } from './form-params.js';
import type { StripeObject } from './model.js';
import { ParamReader } from './param-reader.js';
import type { Origin } from './state.js';
import { errorBody, paramError, StripeFakeError } from './stripe-errors.js';

/** What a route's handler gets. */
export interface StripeCall {
  readonly request: FastifyRequest;
  readonly params: Params;
  readonly now: number;
  /** The request and its idempotency key, for the events the change makes. */
  readonly origin: Origin;
  /** Checks the parameters against the ones this endpoint takes. */
  reader(allowed: readonly string[]): ParamReader;
  /** A path parameter (`:id`). */
  path(name: string): string;
}

export type Handler = (call: StripeCall) => unknown | Promise<unknown>;

/**
 * Registers one Stripe endpoint. POSTs go through the idempotency layer: a saved answer is replayed
 * with `idempotent-replayed: true` and the `original-request` id; a key in use answers 409, a key reused
 * with other parameters or on another endpoint 400 `idempotency_error`. What the handler answers — or
 * throws, as a `StripeFakeError` — is saved for the key unless it is a parameter refusal (`saved: false`).
 */
export function endpoint(
  app: FastifyInstance,
  ctx: StripeFakeContext,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  handler: Handler,
): void {
  app.route({
    method,
    url,
    handler: async (request, reply) => {
      const requestId = String(reply.getHeader('request-id'));
      const now = ctx.kit.clock.now();
      const send = (status: number, body: unknown) =>
        reply.status(status).type('application/json').send(body);
      const fail = (error: StripeFakeError) => send(error.status, errorBody(error, requestId, now));

      let params: Params;
      try {
        params = parseParams(rawParams(request));
      } catch (error) {
        if (error instanceof ParamsError) return fail(paramError(error.message, ''));
        throw error;
      }
      const headerKey = request.headers['idempotency-key'];
      const key = method === 'POST' && typeof headerKey === 'string' ? headerKey : undefined;
      if (key !== undefined) {
        reply.header('idempotency-key', key);
        if (key.length > 255 || key === '') {
          return fail(
            new StripeFakeError(
              400,
              'invalid_request_error',
              'Invalid idempotency key: keys can be at most 255 characters long.',
              {},
              false,
            ),
          );
        }
        const path = request.url.split('?')[0]!;
        const admission = ctx.idempotency.admit(key, method, path, canonical(params), now);
        switch (admission.kind) {
          case 'replay':
            ctx.kit.count('idempotent-replays');
            reply.header('idempotent-replayed', 'true');
            reply.header('original-request', admission.answer.requestId);
            return reply.status(admission.answer.status).type('application/json').send(admission.answer.body);
          case 'in-use':
            reply.header('stripe-should-retry', 'true');
            return fail(
              new StripeFakeError(
                409,
                'idempotency_error',
                `There is currently another in-progress request using this Stripe token (that probably means you clicked twice, and the other request is still going through): ${key}. Please try again later.`,
                { code: 'idempotency_key_in_use' },
                false,
              ),
            );
          case 'other-params':
            return fail(
              new StripeFakeError(
                400,
                'idempotency_error',
                `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
                {},
                false,
              ),
            );
          case 'other-endpoint':
            return fail(
              new StripeFakeError(
                400,
                'idempotency_error',
                `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${admission.path}' vs '${path}'). Try using a key other than '${key}' if you meant to execute a different request.`,
                {},
                false,
              ),
            );
          case 'new':
            break;
        }
      }

      const call: StripeCall = {
        request,
        params,
        now,
        origin: { requestId, idempotencyKey: key ?? null },
        reader: (allowed) => new ParamReader(params, allowed),
        path: (name) => (request.params as Record<string, string>)[name] ?? '',
      };
      let status = 200;
      let body: string;
      let saved = true;
      try {
        if (method !== 'GET' && ctx.options.processingMs > 0) {
          await new Promise((resolve) => setTimeout(resolve, ctx.options.processingMs));
        }
        body = JSON.stringify(await handler(call));
      } catch (error) {
        const known =
          error instanceof StripeFakeError
            ? error
            : new StripeFakeError(500, 'api_error', 'An unknown error occurred', {}, true);
        status = known.status;
        saved = known.saved;
        reply.headers(known.headers);
        body = JSON.stringify(errorBody(known, requestId, now));
      }
      if (key !== undefined) {
        if (saved) ctx.idempotency.save(key, { status, body, requestId });
        else ctx.idempotency.release(key);
      }
      return reply.status(status).type('application/json').send(body);
    },
  });
}

/** The body of a POST, or the query string of a GET or DELETE. */
function rawParams(request: FastifyRequest): string {
  if (request.method === 'POST') {
    const body = request.body;
    if (Buffer.isBuffer(body)) return body.toString('utf8');
    if (body === undefined) return '';
    // A JSON body: Stripe's v1 API takes form encoding only.
    throw new ParamsError('Invalid request: the body must be application/x-www-form-urlencoded');
  }
  const q = request.url.indexOf('?');
  return q < 0 ? '' : request.url.slice(q + 1);
}

/** The object with the fields a request asked to expand replaced by the objects they name. */
export function expand<T>(ctx: StripeFakeContext, object: T, fields: readonly string[]): T {
  if (fields.length === 0) return object;
  const copy = structuredClone(object) as Record<string, unknown>;
  for (const field of fields) {
    if (field.startsWith('data.') && Array.isArray(copy.data)) {
      copy.data = copy.data.map((item) => expand(ctx, item, [field.slice(5)]));
      continue;
    }
    const value = copy[field];
    if (typeof value !== 'string') {
      if (value === undefined) throw paramError(`This property cannot be expanded (${field}).`, 'expand');
      continue;
    }
    const found: StripeObject | undefined = ctx.state.find(value);
    if (found) copy[field] = structuredClone(found);
  }
  return copy as T;
}
