/**
 * Stripe's request rate limits, per account and per second, reads and writes counted apart: 25 of
 * each per second in a sandbox (100 in live mode). No rate-limit headers are sent; a refused request
 * is a 429. Counted on the fake's clock, in whole seconds.
 * https://docs.stripe.com/rate-limits
 */
export class SecondLimits {
  private second = -1;
  private reads = 0;
  private writes = 0;

  constructor(private readonly limits: { read: number; write: number }) {}

  /** Counts one request; false when this second's budget for its kind is spent. */
  take(write: boolean, now: number): boolean {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.reads = 0;
      this.writes = 0;
    }
    if (write) {
      if (this.writes >= this.limits.write) return false;
      this.writes++;
    } else {
      if (this.reads >= this.limits.read) return false;
      this.reads++;
    }
    return true;
  }

  reset(): void {
    this.second = -1;
  }
}
