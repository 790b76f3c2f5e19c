import { randomUUID } from 'node:crypto';
import { calendarDay } from '../../../resilience/calendar-day.js';
import { SECONDLY_LIMIT_MESSAGE } from '../errors.js';
import { type HubSpotTier, SEARCH_PER_SECOND, TIER_LIMITS } from '../limits.js';

export type BucketName = 'tenSecondly' | 'daily' | 'search';

export type Admission =
  | { admitted: true; headers: Record<string, string> }
  | { admitted: false; bucket: BucketName; headers: Record<string, string>; body: Record<string, unknown> };

/** Arrival times within a rolling window. */
class RollingCount {
  private times: number[] = [];
  constructor(readonly windowMs: number) {}
  used(now: number): number {
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! <= now - this.windowMs) drop++;
    if (drop > 0) this.times.splice(0, drop);
    return this.times.length;
  }
  add(now: number): void {
    this.times.push(now);
  }
  /** Arrivals after `since`. */
  after(since: number): number {
    let n = 0;
    for (let i = this.times.length - 1; i >= 0 && this.times[i]! > since; i--) n++;
    return n;
  }
}

/**
 * HubSpot's buckets as its servers count them (https://developers.hubspot.com/docs/api/usage-details):
 * a rolling 10 s count per app (the token), a daily count per account reset at midnight in the
 * account's zone, and the search endpoints' own 5 per second per account, whose answers carry no
 * rate-limit headers. A refused request is not counted. Every 429 names its `policyName`, which the
 * SDK's retry decorator keys on.
 */
export class RateBuckets {
  private apps = new Map<string, RollingCount>();
  private search = new RollingCount(1000);
  private day = { start: 0, used: 0 };
  readonly stats: Record<BucketName, { requests: number; limited: number }> = {
    tenSecondly: { requests: 0, limited: 0 },
    daily: { requests: 0, limited: 0 },
    search: { requests: 0, limited: 0 },
  };

  constructor(
    public tier: HubSpotTier,
    private readonly timeZone: string,
    private readonly now: () => number,
  ) {}

  get limits() {
    return { ...TIER_LIMITS[this.tier], searchPerSecond: SEARCH_PER_SECOND };
  }

  reset(): void {
    this.apps.clear();
    this.search = new RollingCount(1000);
    this.day = { start: 0, used: 0 };
    for (const s of Object.values(this.stats)) Object.assign(s, { requests: 0, limited: 0 });
  }

  /** Sets what is left of today's count (`POST /_fake/seed { "dailyRemaining": 0 }`). */
  setDailyRemaining(remaining: number): void {
    const now = this.now();
    this.day = {
      start: calendarDay(now, this.timeZone).start,
      used: Math.max(0, this.limits.perDay - remaining),
    };
  }

  /** Counts a CRM call of `app` (its token); search calls go to their own bucket. */
  admit(app: string, isSearch: boolean): Admission {
    const now = this.now();
    const { perTenSeconds, perDay } = this.limits;
    const { start } = calendarDay(now, this.timeZone);
    if (this.day.start !== start) this.day = { start, used: 0 };
    if (this.day.used >= perDay) {
      this.stats.daily.limited++;
      return this.refuse(
        'daily',
        'DAILY',
        'You have reached your daily limit.',
        isSearch ? {} : this.headers(app, now),
      );
    }
    if (isSearch) {
      if (this.search.used(now) >= SEARCH_PER_SECOND) {
        this.stats.search.limited++;
        return this.refuse('search', 'SECONDLY', SECONDLY_LIMIT_MESSAGE, {});
      }
      this.search.add(now);
      this.stats.search.requests++;
    } else {
      const window = this.window(app);
      if (window.used(now) >= perTenSeconds) {
        this.stats.tenSecondly.limited++;
        return this.refuse(
          'tenSecondly',
          'TEN_SECONDLY_ROLLING',
          'You have reached your ten_secondly_rolling limit.',
          this.headers(app, now),
        );
      }
      window.add(now);
      this.stats.tenSecondly.requests++;
    }
    this.day.used++;
    this.stats.daily.requests++;
    return { admitted: true, headers: isSearch ? {} : this.headers(app, now) };
  }

  private window(app: string): RollingCount {
    const known = this.apps.get(app);
    if (known) return known;
    const window = new RollingCount(10_000);
    this.apps.set(app, window);
    return window;
  }

  private headers(app: string, now: number): Record<string, string> {
    const { perTenSeconds, perDay } = this.limits;
    const used = this.window(app).used(now);
    const secondly = Math.ceil(perTenSeconds / 10);
    return {
      'x-hubspot-ratelimit-daily': String(perDay),
      'x-hubspot-ratelimit-daily-remaining': String(Math.max(0, perDay - this.day.used)),
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
      'x-hubspot-ratelimit-max': String(perTenSeconds),
      'x-hubspot-ratelimit-remaining': String(Math.max(0, perTenSeconds - used)),
      // Deprecated but still sent (never enforced).
      'x-hubspot-ratelimit-secondly': String(secondly),
      'x-hubspot-ratelimit-secondly-remaining': String(
        Math.max(0, secondly - this.window(app).after(now - 1000)),
      ),
    };
  }

  private refuse(
    bucket: BucketName,
    policyName: string,
    message: string,
    headers: Record<string, string>,
  ): Admission {
    return {
      admitted: false,
      bucket,
      headers,
      body: {
        status: 'error',
        message,
        errorType: 'RATE_LIMIT',
        correlationId: randomUUID(),
        policyName,
        requestId: randomUUID(),
      },
    };
  }
}
