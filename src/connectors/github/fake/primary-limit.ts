/**
 * GitHub's primary limit: a budget per hour and per user (per IP when unauthenticated) whose window
 * opens with the first request and resets an hour later; `x-ratelimit-reset` is that instant in
 * epoch seconds. https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
 */
export interface QuotaState {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds. */
  reset: number;
}

const HOUR = 3_600_000;

export class PrimaryLimits {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(private readonly limitFor: (key: string) => number) {}

  /** The quota after counting one request, or with `exceeded` when none was left (it is not counted). */
  take(key: string, now: number): QuotaState & { exceeded: boolean } {
    const window = this.window(key, now);
    const limit = this.limitFor(key);
    const exceeded = window.used >= limit;
    if (!exceeded) window.used++;
    return { ...this.state(key, now), exceeded };
  }

  /** Gives one request back (a 304 does not count against the limit). */
  refund(key: string, now: number): void {
    const window = this.window(key, now);
    if (window.used > 0) window.used--;
  }

  state(key: string, now: number): QuotaState {
    const window = this.window(key, now);
    const limit = this.limitFor(key);
    return {
      limit,
      remaining: Math.max(0, limit - window.used),
      used: window.used,
      reset: Math.ceil((window.start + HOUR) / 1000),
    };
  }

  /** Spends the rest of the window (a test's shortcut to the exhausted state). */
  exhaust(key: string, now: number): void {
    this.window(key, now).used = this.limitFor(key);
  }

  reset(): void {
    this.windows.clear();
  }

  private window(key: string, now: number): { start: number; used: number } {
    let window = this.windows.get(key);
    if (!window || now >= window.start + HOUR) {
      window = { start: now, used: 0 };
      this.windows.set(key, window);
    }
    return window;
  }
}
