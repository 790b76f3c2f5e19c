import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { RetryPolicy } from '../../resilience/retry-policy.js';
import type { Interceptor } from '../http-types.js';

/**
 * Runs the attempts. Transient failures are retried when the call is replayable (GET, HEAD, OPTIONS,
 * PUT, DELETE, or any method with an idempotency key) — or, for any method, when the upstream provably
 * did not act on it: the connection was never made, or it answered 429 (throttled before processing).
 */
export function retryInterceptor(policy: RetryPolicy): Interceptor {
  return (next) => (call) =>
    policy.execute(
      // The policy's deadline is usually the call's own: then the call goes on as it is, uncopied.
      (ctx) =>
        next(
          ctx.signal === call.signal && ctx.deadline === call.deadline
            ? call
            : { ...call, signal: ctx.signal, deadline: ctx.deadline },
        ),
      { signal: call.signal, deadline: call.deadline, isRetryable: call.replayable ? always : notActedOn },
    );
}

function always(): boolean {
  return true;
}

function notActedOn(error: unknown): boolean {
  if (!(error instanceof PatchbayError)) return false;
  if (error.code === ErrorCode.NETWORK_ERROR) return error.notSent === true;
  return error.code === ErrorCode.RATE_LIMITED && error.status === 429;
}
