import { parseDuration } from '../../core/config/units.js';

/** Svix's schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = ['5s', '5m', '30m', '2h', '5h', '10h', '10h'].map(
  (d) => parseDuration(d)!,
);

export interface ScheduleOptions {
  /** Delay before each retry; its length is the number of retries. Defaults to DEFAULT_RETRY_SCHEDULE_MS. */
  schedule?: readonly number[];
  /** Spread each delay by ±this fraction so retries from many deliveries do not arrive together. Defaults to 0.2. */
  jitter?: number;
  /** Least wait after a 429 or a timeout (the receiver is overloaded). Defaults to 60 s. */
  overloadMinimumMs?: number;
  /** `Retry-After` is honoured up to this multiple of the scheduled delay. Defaults to 2. */
  retryAfterMaxFactor?: number;
}

export interface FailureHint {
  /** The receiver answered 429, or the attempt timed out. */
  overloaded: boolean;
  /** The receiver's `Retry-After`, in ms, if it sent one. */
  retryAfterMs?: number;
}

/**
 * When to try again after the `failedAttempts`-th failed attempt of a cycle, or undefined when the
 * schedule is exhausted (dead-letter). `random` is injected so tests pin the jitter.
 */
export function nextRetryDelay(
  failedAttempts: number,
  hint: FailureHint,
  options: ScheduleOptions = {},
  random: () => number = Math.random,
): number | undefined {
  const schedule = options.schedule ?? DEFAULT_RETRY_SCHEDULE_MS;
  const base = schedule[failedAttempts - 1];
  if (base === undefined) return undefined;
  const jitter = options.jitter ?? 0.2;
  let delay = base * (1 - jitter + 2 * jitter * random());
  if (hint.overloaded) delay = Math.max(delay, options.overloadMinimumMs ?? 60_000);
  if (hint.retryAfterMs !== undefined && hint.retryAfterMs > delay) {
    // A receiver may ask for more time, within bounds: it cannot park a delivery for days.
    delay = Math.min(hint.retryAfterMs, delay * (options.retryAfterMaxFactor ?? 2));
  }
  return Math.round(delay);
}
