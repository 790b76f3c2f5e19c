import type { preParsingAsyncHookHandler } from 'fastify';
import { ErrorCode, PatchbayError } from '../../core/errors.js';

/**
 * Memory for request bodies being received, shared by all requests: a request reserves its declared size
 * (or, sent chunked, its route's body limit) before a byte of its body is read, and gives it back when
 * its response ends. A request that does not fit is refused with 503 at once, so stalled uploads cannot
 * pile up the server's memory (200 stalled 3 MB bodies once held 600 MB).
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/** The `preParsing` hook that reserves each request's body in `budget`. */
export function reserveBody(budget: BodyBudget): preParsingAsyncHookHandler {
  return async (request, reply, payload) => {
    const { headers } = request;
    const chunked = headers['transfer-encoding'] !== undefined;
    const declared = chunked ? Number.NaN : Number(headers['content-length']);
    if (!chunked && !(declared > 0)) return payload;
    const routeLimit = request.routeOptions.bodyLimit ?? budget.limit;
    // More than the route reads is refused with 413 by the parser, without being read.
    const bytes = chunked ? routeLimit : Math.min(declared, routeLimit);
    if (!budget.take(bytes)) {
      reply.header('connection', 'close');
      throw new PatchbayError(
        ErrorCode.OVERLOADED,
        'the server is receiving as many request bodies as it holds at once; try again shortly',
        { retryAfterMs: 1000 },
      );
    }
    reply.raw.once('close', () => budget.give(bytes));
    return payload;
  };
}
