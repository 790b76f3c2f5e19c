/** A limit of `limit` requests per `periodMs`, counted in windows aligned to the epoch. */
export interface PeriodLimit {
  limit: number;
  periodMs: number;
}

export interface WindowAnswer {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the current window ends. */
  resetAt: number;
}

/**
 * Fixed refresh periods per (key, group) on a fake's clock: what providers that publish "N requests
 * per period" (SendGrid, Finale) count. Windows are aligned to the epoch, so the reset instant is the
 * same for every caller.
 */
export class FixedWindows<Group extends string> {
  private windows = new Map<string, { start: number; used: number }>();

  constructor(private limits: Record<Group, PeriodLimit>) {}

  configure(limits: Partial<Record<Group, PeriodLimit>>): void {
    this.limits = { ...this.limits, ...limits };
    this.windows.clear();
  }

  current(): Record<Group, PeriodLimit> {
    return { ...this.limits };
  }

  take(key: string, group: Group, now: number): WindowAnswer {
    const { limit, periodMs } = this.limits[group];
    const id = `${group}\u0000${key}`;
    let window = this.windows.get(id);
    if (!window || now >= window.start + periodMs) {
      window = { start: now - (now % periodMs), used: 0 };
      this.windows.set(id, window);
    }
    const allowed = window.used < limit;
    if (allowed) window.used++;
    return { allowed, limit, remaining: limit - window.used, resetAt: window.start + periodMs };
  }

  reset(): void {
    this.windows.clear();
  }
}
