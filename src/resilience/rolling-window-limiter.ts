import { checkInteger, checkKnownKeys, checkNumber } from './options.js';
import type { ProviderQuota } from './quota-headers.js';
import type { Grant, RateLimitStore, StoreTime } from './rate-limit-store.js';
import { LIMITER_BASE_KEYS, type LimiterBaseOptions, StoreRateLimiter } from './rate-limiter.js';

export interface RollingWindowLimiterOptions extends LimiterBaseOptions {
  /** Requests allowed to start in any window. */
  limit: number;
  /** The window, in ms (HubSpot: 100 per rolling 10 000 ms). */
  windowMs: number;
  /**
   * Added to the window on our side, in ms. The provider counts arrivals, we count starts: if an
   * earlier request is delayed on its way more than a later one (a stalled event loop, a slow
   * connection, a retransmit), the provider can see N+1 in its window even though our starts never
   * did. The margin must exceed that jitter. Defaults to 1% of the window and at least 20 ms (100 ms
   * for HubSpot's 10 s, which costs 1% of the throughput).
   */
  safetyMarginMs?: number;
}

const KNOWN = ['limit', 'windowMs', 'safetyMarginMs', ...LIMITER_BASE_KEYS];

export function defaultSafetyMarginMs(windowMs: number): number {
  return Math.max(20, Math.round(windowMs * 0.01));
}

/**
 * Never lets more than `limit` requests start in ANY window of `windowMs` (a sliding log, not fixed
 * buckets: a fixed-window or GCRA limiter lets up to twice the limit through across a boundary, which
 * a provider that counts a rolling window answers with 429s).
 */
export class RollingWindowLimiter extends StoreRateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly safetyMarginMs: number;

  constructor(options: RollingWindowLimiterOptions) {
    checkKnownKeys('rateLimit', options, KNOWN);
    super(options);
    this.limit = checkInteger('rateLimit.limit', options.limit, 1);
    this.windowMs = checkNumber('rateLimit.windowMs', options.windowMs, 1);
    this.safetyMarginMs = checkNumber(
      'rateLimit.safetyMarginMs',
      options.safetyMarginMs ?? defaultSafetyMarginMs(this.windowMs),
      0,
    );
  }

  protected get capacity(): number {
    return this.limit;
  }

  private get effectiveWindowMs(): number {
    return this.windowMs + this.safetyMarginMs;
  }

  protected tryAcquire(store: RateLimitStore, now: StoreTime, cost: number): Promise<Grant> {
    return store.acquireWindow(this.name, { limit: this.limit, windowMs: this.effectiveWindowMs, now, cost });
  }

  protected override concerns(quota: ProviderQuota): boolean {
    return quota.windowMs === undefined || quota.windowMs === this.windowMs;
  }

  protected async reduce(store: RateLimitStore, quota: ProviderQuota, now: number): Promise<void> {
    if (quota.remaining >= this.limit) return;
    await store.reduceWindow(this.name, {
      limit: this.limit,
      windowMs: this.effectiveWindowMs,
      now,
      remaining: quota.remaining,
    });
  }
}
