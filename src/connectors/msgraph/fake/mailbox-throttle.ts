import { GraphFault } from './graph-errors.js';

export interface ThrottleLimits {
  mailboxConcurrency: number;
  mailboxRequestsPerWindow: number;
  mailboxWindowMs: number;
}

/**
 * Outlook's limits per app and mailbox (G6, throttling-limits.md): 4 concurrent requests, and 10,000
 * requests in any 10 minutes. Over the first, a 429 `ApplicationThrottled` ("…MailboxConcurrency
 * limit", observed); over the second, a 429 `TooManyRequests` whose `Retry-After` is the time until the
 * oldest request leaves the window, in seconds with a fraction (G6's samples show `2.128`).
 */
export class MailboxThrottle {
  private readonly inFlight = new Map<string, number>();
  private readonly arrivals = new Map<string, number[]>();

  constructor(private readonly limits: () => ThrottleLimits) {}

  /** Takes a slot for one request, or throws the 429 Graph answers; call the result when it ends. */
  acquire(appId: string, mailboxId: string, now: number): () => void {
    const key = `${appId}|${mailboxId.toLowerCase()}`;
    const limits = this.limits();
    const running = this.inFlight.get(key) ?? 0;
    if (running >= limits.mailboxConcurrency) {
      throw new GraphFault(
        429,
        'ApplicationThrottled',
        'Application is over its MailboxConcurrency limit.',
        { 'Retry-After': '1' },
        { code: '429', status: '429' },
      );
    }
    const window = this.window(key, now, limits.mailboxWindowMs);
    if (window.length >= limits.mailboxRequestsPerWindow) {
      const waitMs = Math.max(1, window[0]! + limits.mailboxWindowMs - now);
      throw new GraphFault(
        429,
        'TooManyRequests',
        'Please retry again later.',
        { 'Retry-After': (waitMs / 1000).toFixed(3) },
        { code: '429', status: '429' },
      );
    }
    window.push(now);
    this.inFlight.set(key, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
    };
  }

  reset(): void {
    this.inFlight.clear();
    this.arrivals.clear();
  }

  private window(key: string, now: number, windowMs: number): number[] {
    let arrivals = this.arrivals.get(key);
    if (!arrivals) {
      arrivals = [];
      this.arrivals.set(key, arrivals);
    }
    let drop = 0;
    while (drop < arrivals.length && arrivals[drop]! <= now - windowMs) drop++;
    if (drop > 0) arrivals.splice(0, drop);
    return arrivals;
  }
}
