/**
 * Per-attempt timeouts on the common path (no caller signal, the system clock). Each attempt gets the
 * smallest abort source undici accepts (an object with `addEventListener`) instead of an
 * AbortController, a signal linked to the caller's and a listener; and the client's attempts share one
 * native timer, armed for the earliest expiry, instead of a `setTimeout` each. Both cost more than the
 * rest of the client's stages together against a fast local upstream. The bound is the TimeoutPolicy's:
 * the whole attempt (waiting for a connection, headers, body).
 */
export class AttemptTimer {
  aborted = false;
  reason: unknown;
  /** @internal list links, kept in expiry order by `AttemptTimers` */
  prev: AttemptTimer | undefined;
  next: AttemptTimer | undefined;
  private listener: (() => void) | undefined;

  constructor(
    readonly expiresAt: number,
    private readonly owner: AttemptTimers,
    private readonly makeReason: () => Error,
  ) {}

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }

  /** Stops watching the attempt once it has settled. Safe to call twice. */
  clear(): void {
    this.owner.remove(this);
  }

  /** @internal */
  fire(): void {
    this.aborted = true;
    this.reason = this.makeReason();
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }
}

/** The attempts in flight on one client, earliest expiry first. */
export class AttemptTimers {
  private head: AttemptTimer | undefined;
  private tail: AttemptTimer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  /** Aborts with `reason()` after `ms`, unless cleared first. */
  start(ms: number, reason: () => Error): AttemptTimer {
    const t = new AttemptTimer(Date.now() + ms, this, reason);
    // Expiries nearly always arrive in order (one timeout for every attempt): append, else walk back.
    let after = this.tail;
    while (after && after.expiresAt > t.expiresAt) after = after.prev;
    t.prev = after;
    t.next = after ? after.next : this.head;
    if (t.next) t.next.prev = t;
    else this.tail = t;
    if (after) after.next = t;
    else this.head = t;
    if (t.expiresAt < this.armedFor) this.arm();
    return t;
  }

  remove(t: AttemptTimer): void {
    if (t.prev === undefined && this.head !== t) return; // not in the list (fired, or cleared already)
    if (t.prev) t.prev.next = t.next;
    else this.head = t.next;
    if (t.next) t.next.prev = t.prev;
    else this.tail = t.prev;
    t.prev = undefined;
    t.next = undefined;
    // An empty list must not keep the process alive; otherwise the armed timer stays: when it fires
    // early it re-arms for the new head, which is cheaper than re-arming on every completion.
    if (!this.head && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
    }
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (!this.head) return;
    this.armedFor = this.head.expiresAt;
    this.timer = setTimeout(() => this.sweep(), Math.max(1, this.armedFor - Date.now()));
  }

  private sweep(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    while (this.head && this.head.expiresAt <= now) {
      const t = this.head;
      this.remove(t);
      t.fire();
    }
    this.arm();
  }
}
