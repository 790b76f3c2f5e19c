/**
 * Where rate limiters count, so several processes can share one limit. Every operation is atomic for
 * its key. `now` comes from the caller's clock (processes on several hosts need synchronised clocks;
 * the rolling window's safety margin absorbs small skew).
 *
 * Implementations: `MemoryRateLimitStore` (one process), and in `patchbay`'s store module SQL
 * (SQLite, PostgreSQL) and Redis adapters. All pass the same conformance suite.
 */
/**
 * The caller's time, or a way to read it. A store that may wait for its key (a SQL row lock, SQLite's
 * write lock held by another process) reads it once it holds the key: a slot stamped with the time the
 * caller *asked* would be older than the request that leaves after the wait, and a provider counting
 * arrivals would see one request too many in its window.
 */
export type StoreTime = number | (() => number);

/** Reads a `StoreTime`; stores call it at the point their operation becomes atomic. */
export function timeOf(now: StoreTime): number {
  return typeof now === 'number' ? now : now();
}

export type Grant = { granted: true; remaining: number } | { granted: false; retryAfterMs: number };

export interface WindowRequest {
  limit: number;
  windowMs: number;
  now: StoreTime;
  /** Slots this request takes. */
  cost: number;
}

export interface GcraRequest {
  /** Time one request "costs": period / rate, in ms. */
  intervalMs: number;
  /** Requests that may go at once (the bucket's capacity). */
  burst: number;
  now: StoreTime;
  cost: number;
}

export interface LeaseRequest {
  limit: number;
  /** A lease not released after this long is freed (its holder died). */
  leaseMs: number;
  now: StoreTime;
  /** Identifies the lease for `releaseLease`. */
  token: string;
}

export interface RateLimitStore {
  /**
   * Sliding log: grants when the slots taken in (now − windowMs, now] plus `cost` stay within `limit`,
   * and records them at `now`. Denies with the wait until enough slots leave the window, or until a
   * block ends.
   */
  acquireWindow(key: string, request: WindowRequest): Promise<Grant>;
  /** Adaptive: takes slots at `now` until at most `remaining` are free in the window. */
  reduceWindow(key: string, request: Omit<WindowRequest, 'cost'> & { remaining: number }): Promise<void>;
  /** GCRA (a token bucket without a refill timer): `tat` per key. */
  acquireGcra(key: string, request: GcraRequest): Promise<Grant>;
  /** Adaptive: moves the theoretical arrival time so at most `remaining` requests may go at once. */
  reduceGcra(key: string, request: Omit<GcraRequest, 'cost'> & { remaining: number }): Promise<void>;
  /** Concurrency: holds one of `limit` leases until released or expired. */
  acquireLease(key: string, request: LeaseRequest): Promise<Grant>;
  releaseLease(key: string, token: string): Promise<void>;
  /** Grants nothing on `key` before `until` (a 429's Retry-After, a reset time); the later block wins. */
  block(key: string, until: number): Promise<void>;
}

interface KeyState {
  /** Sorted start times of the slots in the window; `head` marks the first live one. */
  log: number[];
  head: number;
  tat: number;
  blockedUntil: number;
  leases: Map<string, number>;
}

/** One process's counts. Fast: operations resolve without I/O. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly keys = new Map<string, KeyState>();

  private state(key: string): KeyState {
    let s = this.keys.get(key);
    if (!s) {
      s = { log: [], head: 0, tat: Number.NEGATIVE_INFINITY, blockedUntil: 0, leases: new Map() };
      this.keys.set(key, s);
    }
    return s;
  }

  private prune(s: KeyState, now: number, windowMs: number): number {
    const horizon = now - windowMs;
    while (s.head < s.log.length && s.log[s.head]! <= horizon) s.head++;
    if (s.head > 1024 && s.head * 2 > s.log.length) {
      s.log = s.log.slice(s.head);
      s.head = 0;
    }
    return s.log.length - s.head;
  }

  async acquireWindow(key: string, { limit, windowMs, now: at, cost }: WindowRequest): Promise<Grant> {
    const now = timeOf(at);
    const s = this.state(key);
    if (s.blockedUntil > now) return { granted: false, retryAfterMs: s.blockedUntil - now };
    const used = this.prune(s, now, windowMs);
    if (used + cost <= limit) {
      insertSorted(s, now, cost);
      return { granted: true, remaining: limit - used - cost };
    }
    // The slot that must leave for this request to fit is the (used + cost − limit)-th oldest.
    const leaving = s.log[s.head + used + cost - limit - 1]!;
    return { granted: false, retryAfterMs: leaving + windowMs - now };
  }

  async reduceWindow(
    key: string,
    { limit, windowMs, now: at, remaining }: Omit<WindowRequest, 'cost'> & { remaining: number },
  ): Promise<void> {
    const now = timeOf(at);
    const s = this.state(key);
    const used = this.prune(s, now, windowMs);
    const extra = limit - used - remaining;
    if (extra > 0) insertSorted(s, now, extra);
  }

  async acquireGcra(key: string, { intervalMs, burst, now: at, cost }: GcraRequest): Promise<Grant> {
    const now = timeOf(at);
    const s = this.state(key);
    if (s.blockedUntil > now) return { granted: false, retryAfterMs: s.blockedUntil - now };
    const tolerance = intervalMs * burst;
    const tat = Math.max(s.tat, now);
    const newTat = tat + intervalMs * cost;
    const allowAt = newTat - tolerance;
    if (now < allowAt) return { granted: false, retryAfterMs: allowAt - now };
    s.tat = newTat;
    return { granted: true, remaining: Math.floor((now + tolerance - newTat) / intervalMs) };
  }

  async reduceGcra(
    key: string,
    { intervalMs, burst, now: at, remaining }: Omit<GcraRequest, 'cost'> & { remaining: number },
  ): Promise<void> {
    const now = timeOf(at);
    const s = this.state(key);
    const target = now + intervalMs * (burst - remaining);
    if (Math.max(s.tat, now) < target) s.tat = target;
  }

  async acquireLease(key: string, { limit, leaseMs, now: at, token }: LeaseRequest): Promise<Grant> {
    const now = timeOf(at);
    const s = this.state(key);
    if (s.blockedUntil > now) return { granted: false, retryAfterMs: s.blockedUntil - now };
    let earliest = Number.POSITIVE_INFINITY;
    for (const [t, expires] of s.leases) {
      if (expires <= now) s.leases.delete(t);
      else earliest = Math.min(earliest, expires);
    }
    if (s.leases.size < limit) {
      s.leases.set(token, now + leaseMs);
      return { granted: true, remaining: limit - s.leases.size };
    }
    return { granted: false, retryAfterMs: earliest - now };
  }

  async releaseLease(key: string, token: string): Promise<void> {
    this.keys.get(key)?.leases.delete(token);
  }

  async block(key: string, until: number): Promise<void> {
    const s = this.state(key);
    s.blockedUntil = Math.max(s.blockedUntil, until);
  }
}

function insertSorted(s: KeyState, at: number, count: number): void {
  // Times almost always arrive in order; a caller with a clock slightly behind lands a bit earlier.
  let index = s.log.length;
  while (index > s.head && s.log[index - 1]! > at) index--;
  const slots = new Array<number>(count).fill(at);
  if (index === s.log.length) s.log.push(...slots);
  else s.log.splice(index, 0, ...slots);
}
