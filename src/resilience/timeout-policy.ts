import { abortError, type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { checkKnownKeys, checkNumber } from './options.js';
import type { ExecuteOptions, Policy, PolicyContext } from './policy.js';
import { toExecuteOptions } from './policy.js';
import { linkedController, NEVER_ABORTED, startTimer } from './timers.js';

export interface TimeoutOptions {
  /** Longest a single execution may take, in ms. Defaults to 30 s. */
  timeoutMs?: number;
  clock?: Clock;
}

export const timeoutDefaults = { timeoutMs: 30_000 } as const;

/**
 * Bounds one execution by `timeoutMs` and by the caller's deadline, whichever ends first. At the
 * limit the function's signal aborts (so cooperative work stops: undici cancels the request) and the
 * call rejects with `TIMEOUT` at once, even if the function ignores its signal.
 */
export class TimeoutPolicy implements Policy {
  readonly timeoutMs: number;
  private readonly clock: Clock;

  constructor(options: TimeoutOptions = {}) {
    checkKnownKeys('timeout', options, ['timeoutMs', 'clock']);
    this.timeoutMs = checkNumber('timeout.timeoutMs', options.timeoutMs ?? timeoutDefaults.timeoutMs, 1);
    this.clock = options.clock ?? systemClock;
  }

  /** How long an execution starting now may take: `timeoutMs`, or less when the deadline is nearer. */
  limitFor(deadline: number): { limit: number; byDeadline: boolean } {
    const untilDeadline = deadline - this.clock.now();
    return { limit: Math.min(this.timeoutMs, untilDeadline), byDeadline: untilDeadline < this.timeoutMs };
  }

  /** The failure of an execution that would start after its deadline. */
  tooLate(): PatchbayError {
    return new PatchbayError(ErrorCode.TIMEOUT, 'the deadline passed before the call could start', {
      data: { timeoutMs: this.timeoutMs },
    });
  }

  execute<T>(
    fn: (context: PolicyContext) => Promise<T> | T,
    options?: ExecuteOptions | AbortSignal,
  ): Promise<T> {
    const opts = toExecuteOptions(options);
    const parent = opts.signal ?? NEVER_ABORTED;
    if (parent.aborted) return Promise.reject(abortError(parent));
    const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
    const { limit, byDeadline } = this.limitFor(deadline);
    if (limit <= 0) return Promise.reject(this.tooLate());
    const { controller, unlink } = linkedController(parent);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const cancel = startTimer(this.clock, limit, () => {
        if (settled) return;
        settled = true;
        unlink();
        const error = timedOut(limit, byDeadline);
        controller.abort(error);
        reject(error);
      });
      const onParentAbort = () => {
        if (settled) return;
        settled = true;
        cancel();
        reject(abortError(parent));
      };
      if (parent !== NEVER_ABORTED) parent.addEventListener('abort', onParentAbort, { once: true });
      const finish = () => {
        settled = true;
        cancel();
        unlink();
        if (parent !== NEVER_ABORTED) parent.removeEventListener('abort', onParentAbort);
      };
      let result: Promise<T> | T;
      try {
        result = fn({ signal: controller.signal, attempt: opts.attempt ?? 1, deadline });
      } catch (error) {
        finish();
        reject(error);
        return;
      }
      Promise.resolve(result).then(
        (value) => {
          if (settled) return;
          finish();
          resolve(value);
        },
        (error) => {
          if (settled) return;
          finish();
          reject(error);
        },
      );
    });
  }
}

/** The failure of an execution that ran out of time (its own limit, or the caller's deadline). */
export function timedOut(limit: number, byDeadline: boolean): PatchbayError {
  return new PatchbayError(
    ErrorCode.TIMEOUT,
    byDeadline ? `the call's deadline passed after ${limit} ms` : `timed out after ${limit} ms`,
    { data: { timeoutMs: limit } },
  );
}
