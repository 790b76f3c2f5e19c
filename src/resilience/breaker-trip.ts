import { checkInteger, checkKnownKeys, checkNumber } from './options.js';

/**
 * When a closed breaker opens. The counters are plain JSON so a shared store (SQL, Redis) can hold
 * them and every process counts into the same numbers.
 */
export interface TripCounters {
  /** consecutive-failures mode */
  consecutive?: number;
  /** failure-rate mode: [bucket start ms, successes, failures] */
  buckets?: [number, number, number][];
  /** failure-run mode: [first failure of the run, failures in it] */
  run?: [number, number];
}

export interface TripPolicy {
  readonly kind: 'consecutive-failures' | 'failure-rate' | 'failure-run';
  /** Counters after `successes` then `failures` more outcomes (successes first: they happened earlier). */
  record(counters: TripCounters, successes: number, failures: number, now: number): TripCounters;
  shouldOpen(counters: TripCounters, now: number): boolean;
  /** True when a success would change the counters in a way that matters at once (a reset). */
  successMatters(counters: TripCounters): boolean;
}

/** Opens after `threshold` failures in a row; any success resets the count. */
export function consecutiveFailures(threshold: number): TripPolicy {
  checkInteger('breaker.consecutiveFailures', threshold, 1);
  return {
    kind: 'consecutive-failures',
    record(counters, successes, failures) {
      const consecutive = (successes > 0 ? 0 : (counters.consecutive ?? 0)) + failures;
      // Unchanged counters come back as they are, so a run of successes allocates nothing.
      return consecutive === (counters.consecutive ?? 0) ? counters : { consecutive };
    },
    shouldOpen(counters) {
      return (counters.consecutive ?? 0) >= threshold;
    },
    successMatters(counters) {
      return (counters.consecutive ?? 0) > 0;
    },
  };
}

export interface FailureRateOptions {
  /** Fraction of failed calls in the window that opens the breaker. Defaults to 0.5. */
  threshold?: number;
  /** The sliding window, in ms. Defaults to 30 s. */
  windowMs?: number;
  /**
   * Calls needed in the window before the rate counts. Defaults to 20 — opossum's default of 0 opens
   * on the very first failure after a quiet spell.
   */
  minimumVolume?: number;
  /** Buckets the window is split into. Defaults to 10. */
  buckets?: number;
}

/** Opens when failures / calls over the sliding window reach `threshold`, once `minimumVolume` calls were seen. */
export function failureRate(options: FailureRateOptions = {}): TripPolicy {
  checkKnownKeys('breaker.failureRate', options, ['threshold', 'windowMs', 'minimumVolume', 'buckets']);
  const threshold = checkNumber('breaker.failureRate.threshold', options.threshold ?? 0.5, 0.01, 1);
  const windowMs = checkNumber('breaker.failureRate.windowMs', options.windowMs ?? 30_000, 1);
  const minimumVolume = checkInteger('breaker.failureRate.minimumVolume', options.minimumVolume ?? 20, 1);
  const bucketCount = checkInteger('breaker.failureRate.buckets', options.buckets ?? 10, 1, 1000);
  const bucketMs = windowMs / bucketCount;
  const live = (counters: TripCounters, now: number) =>
    (counters.buckets ?? []).filter(([start]) => start > now - windowMs);
  return {
    kind: 'failure-rate',
    record(counters, successes, failures, now) {
      const start = Math.floor(now / bucketMs) * bucketMs;
      const buckets = live(counters, now).map((b) => [...b] as [number, number, number]);
      const last = buckets[buckets.length - 1];
      if (last && last[0] === start) {
        last[1] += successes;
        last[2] += failures;
      } else {
        buckets.push([start, successes, failures]);
      }
      return { buckets };
    },
    shouldOpen(counters, now) {
      let calls = 0;
      let failed = 0;
      for (const [, s, f] of live(counters, now)) {
        calls += s + f;
        failed += f;
      }
      return calls >= minimumVolume && failed / calls >= threshold;
    },
    successMatters() {
      return false;
    },
  };
}

export interface FailureRunOptions {
  /** How long nothing but failures must have come back before the breaker opens, in ms. Defaults to 30 s. */
  forMs?: number;
  /** Failures the run must hold as well (a quiet upstream's two failures a minute apart are no outage). Defaults to 10. */
  minimumFailures?: number;
}

/**
 * Opens when every call for `forMs` failed, at least `minimumFailures` of them: the upstream is down.
 * Any success ends the run. An upstream failing some of its calls (half, or nine in ten) keeps
 * answering some, so it never opens this breaker: that is the adaptive throttle's case.
 */
export function failureRun(options: FailureRunOptions = {}): TripPolicy {
  checkKnownKeys('breaker.failureRun', options, ['forMs', 'minimumFailures']);
  const forMs = checkNumber('breaker.failureRun.forMs', options.forMs ?? 30_000, 0);
  const minimumFailures = checkInteger(
    'breaker.failureRun.minimumFailures',
    options.minimumFailures ?? 10,
    1,
  );
  return {
    kind: 'failure-run',
    record(counters, successes, failures, now) {
      const run = successes > 0 ? undefined : counters.run;
      if (failures === 0) return run === counters.run ? counters : {};
      return { run: [run?.[0] ?? now, (run?.[1] ?? 0) + failures] };
    },
    shouldOpen(counters, now) {
      const run = counters.run;
      return run !== undefined && run[1] >= minimumFailures && now - run[0] >= forMs;
    },
    successMatters(counters) {
      return counters.run !== undefined;
    },
  };
}
