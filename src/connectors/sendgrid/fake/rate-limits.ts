/** The endpoint groups the fake limits separately, each with its own refresh period. */
export type LimitGroup = 'mail.send' | 'messages' | 'templates' | 'webhooks';

export interface PeriodLimit {
  /** Requests per refresh period. */
  limit: number;
  periodMs: number;
}

/**
 * SendGrid gives every endpoint "a fixed number of requests per refresh period" and does not publish
 * the table: mail send is cited at 10,000 a second, the Email Activity API is documented at 6 a
 * minute, and 600 a minute is the documented default elsewhere.
 * https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits
 */
export const DEFAULT_LIMITS: Readonly<Record<LimitGroup, PeriodLimit>> = {
  'mail.send': { limit: 10_000, periodMs: 1_000 },
  messages: { limit: 6, periodMs: 60_000 },
  templates: { limit: 600, periodMs: 60_000 },
  webhooks: { limit: 600, periodMs: 60_000 },
};

export interface LimitAnswer {
  allowed: boolean;
  /** `X-RateLimit-Limit`, `-Remaining`, `-Reset` (epoch seconds), sent on every answer. */
  headers: Record<string, string>;
}

/** Fixed refresh periods per API key and group, counted on the fake's clock. */
export class PeriodLimiter {
  private windows = new Map<string, { start: number; used: number }>();

  constructor(private limits: Record<LimitGroup, PeriodLimit>) {}

  configure(limits: Partial<Record<LimitGroup, PeriodLimit>>): void {
    this.limits = { ...this.limits, ...limits };
    this.windows.clear();
  }

  current(): Record<LimitGroup, PeriodLimit> {
    return { ...this.limits };
  }

  take(key: string, group: LimitGroup, now: number): LimitAnswer {
    const { limit, periodMs } = this.limits[group];
    const id = `${group}\u0000${key}`;
    let window = this.windows.get(id);
    if (!window || now >= window.start + periodMs) {
      // Periods are aligned to the epoch, so every process sees the same reset instant.
      window = { start: now - (now % periodMs), used: 0 };
      this.windows.set(id, window);
    }
    const allowed = window.used < limit;
    if (allowed) window.used++;
    return {
      allowed,
      headers: {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(limit - window.used),
        'x-ratelimit-reset': String(Math.ceil((window.start + periodMs) / 1000)),
      },
    };
  }

  reset(): void {
    this.windows.clear();
  }
}
