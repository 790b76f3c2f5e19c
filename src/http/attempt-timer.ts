/**
 * The per-attempt timeout on the common path (no caller signal, the system clock): one timer and the
 * smallest abort source undici accepts (an object with `addEventListener`), in place of an
 * AbortController, a signal linked to the caller's and a listener per attempt — those cost more than
 * the rest of the client's stages together on a fast local upstream. It covers the whole attempt
 * (queueing for a connection, headers, body) as the TimeoutPolicy does.
 */
export class AttemptTimer {
  aborted = false;
  reason: unknown;
  private listener: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number, reason: () => Error) {
    this.timer = setTimeout(() => this.fire(reason()), ms);
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }

  /** Stops the timer once the attempt has settled. */
  clear(): void {
    clearTimeout(this.timer);
  }

  private fire(reason: Error): void {
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }
}
