import type { Clock } from '../core/clock.js';
import type { ExecuteOptions, Policy, PolicyContext } from './policy.js';
import { toExecuteOptions } from './policy.js';
import type { RateLimiter } from './rate-limiter.js';
import { NEVER_ABORTED } from './timers.js';

export interface LimiterPolicyOptions {
  /**
   * Longest a call waits for its slot, in ms, within the call's own deadline; past it the call fails
   * with `RATE_LIMITED` (its `retryAfterMs` says when a slot comes). Defaults to no bound but the deadline.
   */
  maxWaitMs?: number;
  clock: Clock;
}

/**
 * A rate limiter (a rolling window, a concurrency cap…) as a policy of a `pipeline`: the call runs
 * once it holds a slot, and gives the slot back when it ends.
 */
export function limiterPolicy(limiter: RateLimiter, options: LimiterPolicyOptions): Policy {
  const { clock, maxWaitMs = Number.POSITIVE_INFINITY } = options;
  return {
    async execute<T>(
      fn: (context: PolicyContext) => Promise<T> | T,
      execute?: ExecuteOptions | AbortSignal,
    ): Promise<T> {
      const opts = toExecuteOptions(execute);
      const signal = opts.signal ?? NEVER_ABORTED;
      const deadline = Math.min(opts.deadline ?? Number.POSITIVE_INFINITY, clock.now() + maxWaitMs);
      const permit = await limiter.acquire({ signal, deadline });
      try {
        return await fn({
          signal,
          attempt: opts.attempt ?? 1,
          deadline: opts.deadline ?? Number.POSITIVE_INFINITY,
        });
      } finally {
        permit.release();
      }
    },
  };
}
