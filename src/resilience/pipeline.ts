import type { ExecuteOptions, Policy, PolicyContext } from './policy.js';
import { toExecuteOptions } from './policy.js';
import { NEVER_ABORTED } from './timers.js';

/**
 * Composes policies, outermost first: `pipeline(retry, breaker, timeout)` retries calls that pass the
 * breaker, each attempt bounded by the timeout. The context (signal, attempt, deadline) flows inward.
 */
export function pipeline(...policies: Policy[]): Policy {
  if (policies.length === 0) return passThrough;
  if (policies.length === 1) return policies[0]!;
  return {
    execute<T>(fn: (context: PolicyContext) => Promise<T> | T, options?: ExecuteOptions | AbortSignal) {
      const run = (index: number, opts: ExecuteOptions): Promise<T> => {
        const policy = policies[index]!;
        if (index === policies.length - 1) return policy.execute(fn, opts);
        return policy.execute((ctx) => run(index + 1, ctx), opts);
      };
      return run(0, toExecuteOptions(options));
    },
  };
}

const passThrough: Policy = {
  async execute(fn, options) {
    const opts = toExecuteOptions(options);
    return fn({
      signal: opts.signal ?? NEVER_ABORTED,
      attempt: opts.attempt ?? 1,
      deadline: opts.deadline ?? Number.POSITIVE_INFINITY,
    });
  },
};
