import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { type TimeoutPolicy, timedOut } from '../../resilience/timeout-policy.js';
import { NEVER_ABORTED } from '../../resilience/timers.js';
import { AttemptTimers } from '../attempt-timer.js';
import type { Interceptor } from '../http-types.js';

/** Bounds each attempt by `timeoutMs` and by the call's deadline; at the limit undici cancels the request. */
export function timeoutInterceptor(policy: TimeoutPolicy, clock: Clock): Interceptor {
  const timers = new AttemptTimers();
  return (next) => (call) => {
    // The caller's own signal, or a test's clock, needs the policy's linked signal and clock timer.
    if (call.signal !== NEVER_ABORTED || clock !== systemClock) {
      return policy.execute((ctx) => next({ ...call, signal: ctx.signal }), {
        signal: call.signal,
        deadline: call.deadline,
      });
    }
    const { limit, byDeadline } = policy.limitFor(call.deadline);
    if (limit <= 0) return Promise.reject(policy.tooLate());
    // The transport clears the timer once the attempt is over.
    return next({ ...call, attemptTimer: timers.start(limit, () => timedOut(limit, byDeadline)) });
  };
}
