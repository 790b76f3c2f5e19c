export interface SecondaryLimitOptions {
  /** Points per minute per endpoint (GET 1, writes 5). Defaults to 900. */
  pointsPerMinute: number;
  /** Content-creating requests per minute. Defaults to 80. */
  contentPerMinute: number;
  /** Content-creating requests per hour. Defaults to 500. */
  contentPerHour: number;
  /** Requests in flight at once. Defaults to 100. */
  maxConcurrent: number;
}

export const secondaryDefaults: SecondaryLimitOptions = {
  pointsPerMinute: 900,
  contentPerMinute: 80,
  contentPerHour: 500,
  maxConcurrent: 100,
};

/** Which secondary limit a request hit, and the `retry-after` GitHub sends for it, if any. */
export interface SecondaryHit {
  kind: 'concurrency' | 'points' | 'content';
  retryAfterS: number | undefined;
}

/**
 * GitHub's secondary limits, counted on the fake's clock. Over the points budget, GitHub answers with a
 * `retry-after`; blocked from content creation, with the message only — the client must then wait at
 * least a minute on its own (both seen in the field, which is why clients must handle both).
 */
export class SecondaryLimits {
  private readonly points = new Map<string, { at: number; points: number }[]>();
  private readonly content = new Map<string, number[]>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly options: SecondaryLimitOptions) {}

  /** Checks one request and, unless refused, counts it. `endpoint` is the method and route pattern. */
  admit(
    user: string,
    endpoint: string,
    method: string,
    creates: boolean,
    now: number,
  ): SecondaryHit | undefined {
    if ((this.inFlight.get(user) ?? 0) >= this.options.maxConcurrent) {
      return { kind: 'concurrency', retryAfterS: 1 };
    }
    const key = `${user} ${endpoint}`;
    const log = prune(this.points.get(key) ?? [], now - 60_000);
    this.points.set(key, log);
    const cost = method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 1 : 5;
    const spent = log.reduce((sum, e) => sum + e.points, 0);
    if (spent + cost > this.options.pointsPerMinute) {
      const oldest = log[0]?.at ?? now;
      return { kind: 'points', retryAfterS: Math.max(1, Math.ceil((oldest + 60_000 - now) / 1000)) };
    }
    if (creates) {
      const created = (this.content.get(user) ?? []).filter((at) => at > now - 3_600_000);
      this.content.set(user, created);
      const lastMinute = created.filter((at) => at > now - 60_000).length;
      if (lastMinute >= this.options.contentPerMinute || created.length >= this.options.contentPerHour) {
        return { kind: 'content', retryAfterS: undefined };
      }
      created.push(now);
    }
    log.push({ at: now, points: cost });
    return undefined;
  }

  enter(user: string): void {
    this.inFlight.set(user, (this.inFlight.get(user) ?? 0) + 1);
  }

  leave(user: string): void {
    this.inFlight.set(user, Math.max(0, (this.inFlight.get(user) ?? 0) - 1));
  }

  reset(): void {
    this.points.clear();
    this.content.clear();
  }
}

function prune<T extends { at: number }>(log: T[], after: number): T[] {
  let i = 0;
  while (i < log.length && log[i]!.at <= after) i++;
  return i === 0 ? log : log.slice(i);
}
