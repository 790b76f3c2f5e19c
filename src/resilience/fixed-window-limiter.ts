import { calendarDay, checkTimeZone } from './calendar-day.js';
import { checkInteger, checkKnownKeys, checkNumber, invalidOption } from './options.js';
import { DAY_MS, type ProviderQuota } from './quota-headers.js';
import type { Grant, RateLimitStore } from './rate-limit-store.js';
import {
  LIMITER_BASE_KEYS,
  type LimiterBaseOptions,
  type RateLimitFeedback,
  StoreRateLimiter,
} from './rate-limiter.js';

export interface FixedWindowLimiterOptions extends LimiterBaseOptions {
  /** Requests allowed in one window. */
  limit: number;
  /** `'day'`: a calendar day in `timeZone` (HubSpot's daily count). A number: windows of that many ms from the epoch. */
  window: 'day' | number;
  /** IANA name of the zone whose midnight ends a `'day'` window. Defaults to `UTC`. */
  timeZone?: string;
  /**
   * Slots taken from the store at a time and handed out locally, so most calls cost no store round
   * trip. Each process may leave up to this many unused when the window ends. Defaults to 1.
   */
  reserve?: number;
}

const KNOWN = ['limit', 'window', 'timeZone', 'reserve', ...LIMITER_BASE_KEYS];

/**
 * A count that resets at fixed instants (midnight in the account's zone): never more than `limit`
 * requests start within one window. A sliding log of a day would hold a quarter million entries, so
 * the count is kept as a GCRA state under a key per window whose interval is the window's length:
 * within one window a bucket of `limit` refills by less than one slot, which makes it an exact counter,
 * and every store (memory, SQL, Redis) already shares GCRA state atomically. The price is one state
 * row (or Redis key) per window per limit — one a day for a daily count.
 */
export class FixedWindowLimiter extends StoreRateLimiter {
  readonly limit: number;
  readonly window: 'day' | number;
  readonly timeZone: string;
  readonly reserve: number;
  /**
   * This process's share of the window starting at `window`: slots taken from the store and not handed
   * out yet (`left`), and what the store had left after the last take (`remaining`).
   */
  private local = { window: Number.NaN, left: 0, remaining: 0 };
  constructor(options: FixedWindowLimiterOptions) {
    checkKnownKeys('rateLimit', options, KNOWN);
    super(options);
    this.limit = checkInteger('rateLimit.limit', options.limit, 1);
    if (options.window !== 'day') {
      if (typeof options.window !== 'number')
        throw invalidOption('rateLimit.window', '"day" or a number of ms', options.window);
      checkNumber('rateLimit.window', options.window, 1);
    }
    this.window = options.window;
    this.timeZone = checkTimeZone('rateLimit.timeZone', options.timeZone ?? 'UTC');
    this.reserve = checkInteger('rateLimit.reserve', options.reserve ?? 1, 1, this.limit);
  }

  /** The window containing `now`, `[start, end)` in epoch ms. */
  windowAt(now: number): { start: number; end: number } {
    if (this.window === 'day') return calendarDay(now, this.timeZone);
    const start = Math.floor(now / this.window) * this.window;
    return { start, end: start + this.window };
  }

  protected get capacity(): number {
    return this.limit;
  }

  protected override keyAt(now: number): string {
    return `${this.name}:${this.windowAt(now).start}`;
  }

  protected override concerns(quota: ProviderQuota): boolean {
    return quota.windowMs === (this.window === 'day' ? DAY_MS : this.window);
  }

  protected async tryAcquire(store: RateLimitStore, _now: unknown, cost: number): Promise<Grant> {
    // The window is chosen before the store is asked, so the slot is stamped with the same instant
    // (not re-read after a lock wait that may cross midnight into the next window's key).
    const now = this.clock.now();
    const { start, end } = this.windowAt(now);
    const local = this.local.window === start ? this.local : undefined;
    if (local && local.left >= cost) {
      local.left -= cost;
      return { granted: true, remaining: local.remaining };
    }
    const key = `${this.name}:${start}`;
    const ask = (n: number) =>
      store.acquireGcra(key, { intervalMs: end - start, burst: this.limit, now, cost: n });
    // A block is taken while the store has that many left; near the end of the count, one call at a time.
    let take = local && local.remaining < this.reserve ? cost : Math.max(cost, this.reserve);
    let grant = await ask(take);
    if (!grant.granted && take > cost) {
      take = cost;
      grant = await ask(take);
    }
    if (!grant.granted) {
      // Spent: the next slot comes with the next window, not when the GCRA would refill one.
      return { granted: false, retryAfterMs: Math.min(grant.retryAfterMs, end - now) };
    }
    this.local = { window: start, left: take - cost, remaining: grant.remaining };
    return grant;
  }

  override async observe(feedback: RateLimitFeedback): Promise<void> {
    // The provider's word overrides what this process set aside: a 429 that makes us wait, or fewer
    // left in the account than this process holds, and nothing more is handed out locally.
    const refused = feedback.status === 429 && (feedback.retryAfterMs ?? 0) > 0;
    if (refused || feedback.quotas?.some((q) => this.concerns(q) && q.remaining < this.local.left)) {
      this.local = { window: Number.NaN, left: 0, remaining: 0 };
    }
    return super.observe(feedback);
  }

  protected async reduce(store: RateLimitStore, quota: ProviderQuota, now: number): Promise<void> {
    if (quota.remaining >= this.limit) return;
    const { start, end } = this.windowAt(now);
    await store.reduceGcra(`${this.name}:${start}`, {
      intervalMs: end - start,
      burst: this.limit,
      now,
      remaining: quota.remaining,
    });
  }
}
