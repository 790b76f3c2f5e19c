import { checkInteger, checkKnownKeys, checkNumber } from './options.js';
import type { ProviderQuota } from './quota-headers.js';
import type { Grant, RateLimitStore, StoreTime } from './rate-limit-store.js';
import { LIMITER_BASE_KEYS, type LimiterBaseOptions, StoreRateLimiter } from './rate-limiter.js';

export interface TokenBucketLimiterOptions extends LimiterBaseOptions {
  /** Requests per period, sustained. */
  rate: number;
  /** The period, in ms. Defaults to 1 s. */
  periodMs?: number;
  /** Requests that may go at once after a quiet spell (the bucket's size). Defaults to `rate`. */
  burst?: number;
}

const KNOWN = ['rate', 'periodMs', 'burst', ...LIMITER_BASE_KEYS];

/**
 * A token bucket computed as GCRA: one timestamp per key, no refill timer, the same answer in memory,
 * SQL and Redis. Note: over one rolling period it admits up to `burst + rate` requests — use
 * `RollingWindowLimiter` for providers that count a rolling window.
 */
export class TokenBucketLimiter extends StoreRateLimiter {
  readonly rate: number;
  readonly periodMs: number;
  readonly burst: number;
  private readonly intervalMs: number;

  constructor(options: TokenBucketLimiterOptions) {
    checkKnownKeys('rateLimit', options, KNOWN);
    super(options);
    this.rate = checkNumber('rateLimit.rate', options.rate, Number.MIN_VALUE);
    this.periodMs = checkNumber('rateLimit.periodMs', options.periodMs ?? 1000, 1);
    this.burst = checkInteger('rateLimit.burst', options.burst ?? Math.max(1, Math.floor(this.rate)), 1);
    this.intervalMs = this.periodMs / this.rate;
  }

  protected get capacity(): number {
    return this.burst;
  }

  protected tryAcquire(store: RateLimitStore, now: StoreTime, cost: number): Promise<Grant> {
    return store.acquireGcra(this.name, { intervalMs: this.intervalMs, burst: this.burst, now, cost });
  }

  protected override concerns(quota: ProviderQuota): boolean {
    return quota.windowMs === undefined || quota.windowMs === this.periodMs;
  }

  protected async reduce(store: RateLimitStore, quota: ProviderQuota, now: number): Promise<void> {
    if (quota.remaining >= this.burst) return;
    await store.reduceGcra(this.name, {
      intervalMs: this.intervalMs,
      burst: this.burst,
      now,
      remaining: quota.remaining,
    });
  }
}
