import { checkNumber, defined, invalidOption } from './options.js';

/**
 * How long to wait before a retry. Pure: the random source and the previous delay come in, so the
 * bounds can be property-tested and a policy can run under a fake clock.
 */
export interface Backoff {
  /**
   * @param retry 1 for the first retry, 2 for the second, …
   * @param previousDelayMs the delay chosen before this one (0 before the first retry)
   * @param random a source of uniform numbers in [0, 1)
   */
  delay(retry: number, previousDelayMs: number, random: () => number): number;
}

export interface ExponentialBackoffOptions {
  /** The first retry's ceiling, in ms. Defaults to 200 ms. */
  baseDelayMs?: number;
  /** No delay exceeds this, in ms. Defaults to 30 s. */
  maxDelayMs?: number;
  /** Growth per retry. Defaults to 2. */
  factor?: number;
  /**
   * `full` (default): U(0, min(cap, base·factor^(n−1))) — AWS's simulation shows the fewest calls.
   * `equal`: half fixed, half random. `none`: the exponential itself (synchronises clients; avoid).
   */
  jitter?: 'full' | 'equal' | 'none';
}

export const exponentialBackoffDefaults = {
  baseDelayMs: 200,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 'full',
} as const satisfies Required<ExponentialBackoffOptions>;

export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  const { baseDelayMs, maxDelayMs, factor, jitter } = { ...exponentialBackoffDefaults, ...defined(options) };
  checkNumber('backoff.baseDelayMs', baseDelayMs, 0);
  checkNumber('backoff.maxDelayMs', maxDelayMs, baseDelayMs);
  checkNumber('backoff.factor', factor, 1);
  if (jitter !== 'full' && jitter !== 'equal' && jitter !== 'none') {
    throw invalidOption('backoff.jitter', '"full", "equal" or "none"', jitter);
  }
  return {
    delay(retry, _previous, random) {
      // Exponent capped so factor^n never overflows to Infinity·0 = NaN for absurd retry counts.
      const ceiling = Math.min(maxDelayMs, baseDelayMs * factor ** Math.min(retry - 1, 1000));
      if (jitter === 'none') return ceiling;
      if (jitter === 'equal') return ceiling / 2 + random() * (ceiling / 2);
      return random() * ceiling;
    },
  };
}

export interface DecorrelatedJitterOptions {
  /** Smallest delay, in ms. Defaults to 200 ms. */
  baseDelayMs?: number;
  /** Largest delay, in ms. Defaults to 30 s. */
  maxDelayMs?: number;
}

/** `min(cap, U(base, previous·3))`: finishes slightly sooner than full jitter with a few more calls. */
export function decorrelatedJitterBackoff(options: DecorrelatedJitterOptions = {}): Backoff {
  const { baseDelayMs, maxDelayMs } = { baseDelayMs: 200, maxDelayMs: 30_000, ...defined(options) };
  checkNumber('backoff.baseDelayMs', baseDelayMs, 0);
  checkNumber('backoff.maxDelayMs', maxDelayMs, baseDelayMs);
  return {
    delay(_retry, previous, random) {
      const upper = Math.max(baseDelayMs, previous * 3);
      return Math.min(maxDelayMs, baseDelayMs + random() * (upper - baseDelayMs));
    },
  };
}

/** The same delay every time. */
export function constantBackoff(delayMs: number): Backoff {
  checkNumber('backoff.delayMs', delayMs, 0);
  return { delay: () => delayMs };
}
