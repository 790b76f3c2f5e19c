import { type Clock, systemClock } from '../core/clock.js';
import { checkNumber } from './options.js';

/**
 * Keeps retries from multiplying the load on an upstream that is already failing. The retry policy
 * reports every attempt and every accepted answer, and asks before each retry.
 */
export interface RetryBudget {
  /** A call's first attempt is about to go out. */
  recordRequest(): void;
  /** The upstream accepted an attempt (it did not fail transiently). */
  recordSuccess(): void;
  /**
   * May one more retry go out? A yes is counted at once, so many calls failing together cannot all
   * take the same last token.
   */
  tryRetry(): boolean;
}

/** Counts in fixed buckets spanning a sliding window, so memory is constant however busy we are. */
class WindowCounter {
  private readonly buckets: Float64Array;
  private readonly starts: Float64Array;
  private readonly bucketMs: number;

  constructor(
    windowMs: number,
    bucketCount: number,
    private readonly clock: Clock,
  ) {
    this.bucketMs = windowMs / bucketCount;
    this.buckets = new Float64Array(bucketCount);
    this.starts = new Float64Array(bucketCount).fill(Number.NEGATIVE_INFINITY);
  }

  add(n = 1): void {
    const now = this.clock.now();
    const start = Math.floor(now / this.bucketMs) * this.bucketMs;
    const index = Math.floor(now / this.bucketMs) % this.buckets.length;
    if (this.starts[index] !== start) {
      this.starts[index] = start;
      this.buckets[index] = 0;
    }
    this.buckets[index]! += n;
  }

  sum(): number {
    const oldest = this.clock.now() - this.bucketMs * this.buckets.length;
    let total = 0;
    for (let i = 0; i < this.buckets.length; i++) if (this.starts[i]! > oldest) total += this.buckets[i]!;
    return total;
  }
}

export interface TokenRetryBudgetOptions {
  /** Retries allowed as a fraction of first attempts in the window. Defaults to 0.2 (Finagle's default). */
  ratio?: number;
  /** Retries always allowed per second, so a quiet client can still retry. Defaults to 10. */
  minRetriesPerSecond?: number;
  /** How far back the counts go, in ms. Defaults to 10 s. */
  windowMs?: number;
  clock?: Clock;
}

/**
 * A token budget (Finagle's RetryBudget): retries in the window may not exceed
 * `minRetriesPerSecond·window + ratio·firstAttempts`. Under a total outage, a client making 100
 * calls/s sends at most ~120 attempts/s instead of 100 × maxAttempts.
 */
export function tokenRetryBudget(options: TokenRetryBudgetOptions = {}): RetryBudget {
  const ratio = checkNumber('budget.ratio', options.ratio ?? 0.2, 0, 1000);
  const minPerSecond = checkNumber('budget.minRetriesPerSecond', options.minRetriesPerSecond ?? 10, 0);
  const windowMs = checkNumber('budget.windowMs', options.windowMs ?? 10_000, 1);
  const clock = options.clock ?? systemClock;
  const firsts = new WindowCounter(windowMs, 10, clock);
  const retries = new WindowCounter(windowMs, 10, clock);
  const floor = (minPerSecond * windowMs) / 1000;
  return {
    recordRequest() {
      firsts.add();
    },
    recordSuccess() {},
    tryRetry() {
      if (retries.sum() + 1 > floor + ratio * firsts.sum()) return false;
      retries.add();
      return true;
    },
  };
}

export interface AdaptiveRetryBudgetOptions {
  /** Accepts multiplier: the SRE book's K. Lower is more aggressive throttling. Defaults to 2. */
  k?: number;
  /** How far back the counts go, in ms. Defaults to 2 min (the SRE book's choice). */
  windowMs?: number;
  clock?: Clock;
  /** Uniform [0, 1). Defaults to Math.random. */
  random?: () => number;
}

/**
 * Google SRE client-side adaptive throttling applied to retries: a retry is dropped with probability
 * `max(0, (requests − K·accepts) / (requests + 1))`. While the upstream accepts most requests the
 * probability is 0; as it starts failing, retries thin out in proportion.
 */
export function adaptiveRetryBudget(options: AdaptiveRetryBudgetOptions = {}): RetryBudget {
  const k = checkNumber('budget.k', options.k ?? 2, 1);
  const windowMs = checkNumber('budget.windowMs', options.windowMs ?? 120_000, 1);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const requests = new WindowCounter(windowMs, 100, clock);
  const accepts = new WindowCounter(windowMs, 100, clock);
  return {
    recordRequest() {
      requests.add();
    },
    recordSuccess() {
      accepts.add();
    },
    tryRetry() {
      const r = requests.sum();
      const p = Math.max(0, (r - k * accepts.sum()) / (r + 1));
      if (random() < p) return false;
      requests.add();
      return true;
    },
  };
}
