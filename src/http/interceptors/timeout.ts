import type { TimeoutPolicy } from '../../resilience/timeout-policy.js';
import type { Interceptor } from '../http-types.js';

/** Bounds each attempt by `timeoutMs` and by the call's deadline; at the limit undici cancels the request. */
export function timeoutInterceptor(policy: TimeoutPolicy): Interceptor {
  return (next) => (call) =>
    policy.execute((ctx) => next({ ...call, signal: ctx.signal }), {
      signal: call.signal,
      deadline: call.deadline,
    });
}
