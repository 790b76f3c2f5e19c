import { goDuration } from './go-duration.js';

/** Requests and tokens per minute, as an OpenAI organisation gets them per model. */
export interface ModelLimits {
  rpm: number;
  tpm: number;
}

/**
 * One limit as OpenAI counts it: a bucket of `capacity` that refills evenly over a minute, so
 * `x-ratelimit-reset-*` is the time until it is full again ("resets to its initial state").
 * https://platform.openai.com/docs/guides/rate-limits
 */
class MinuteBucket {
  private level: number;
  private at: number;

  constructor(
    readonly capacity: number,
    now: number,
  ) {
    this.level = capacity;
    this.at = now;
  }

  remaining(now: number): number {
    const refill = ((now - this.at) / 60_000) * this.capacity;
    this.level = Math.min(this.capacity, this.level + refill);
    this.at = now;
    return this.level;
  }

  take(amount: number, now: number): void {
    this.remaining(now);
    this.level -= amount;
  }

  /** Ms until `amount` is available (0 if it is now). */
  waitFor(amount: number, now: number): number {
    const missing = amount - this.remaining(now);
    return missing <= 0 ? 0 : Math.ceil((missing / this.capacity) * 60_000);
  }

  /** Ms until the bucket is full. */
  untilFull(now: number): number {
    return Math.ceil(((this.capacity - this.remaining(now)) / this.capacity) * 60_000);
  }
}

export type BudgetAnswer =
  | { ok: true; headers: Record<string, string> }
  | {
      ok: false;
      limit: 'requests' | 'tokens';
      waitMs: number;
      used: number;
      cap: number;
      headers: Record<string, string>;
    };

/** Request and token budgets per (key, model), charged before a request runs. */
export class Budgets {
  private buckets = new Map<string, { requests: MinuteBucket; tokens: MinuteBucket }>();

  /**
   * Charges one request and `tokens` (the prompt plus the completion's `max_tokens`, as OpenAI counts
   * a request against the minute before it runs), or refuses it with how long to wait.
   */
  charge(key: string, model: string, limits: ModelLimits, tokens: number, now: number): BudgetAnswer {
    const id = `${key}\u0000${model}`;
    let pair = this.buckets.get(id);
    if (!pair || pair.requests.capacity !== limits.rpm || pair.tokens.capacity !== limits.tpm) {
      pair = { requests: new MinuteBucket(limits.rpm, now), tokens: new MinuteBucket(limits.tpm, now) };
      this.buckets.set(id, pair);
    }
    const { requests, tokens: tokenBucket } = pair;
    const requestWait = requests.waitFor(1, now);
    const tokenWait = tokenBucket.waitFor(tokens, now);
    if (requestWait === 0 && tokenWait === 0) {
      requests.take(1, now);
      tokenBucket.take(tokens, now);
      return { ok: true, headers: headersOf(limits, requests, tokenBucket, now) };
    }
    const headers = headersOf(limits, requests, tokenBucket, now);
    if (requestWait > 0) {
      return {
        ok: false,
        limit: 'requests',
        waitMs: requestWait,
        used: limits.rpm - Math.floor(requests.remaining(now)),
        cap: limits.rpm,
        headers,
      };
    }
    return {
      ok: false,
      limit: 'tokens',
      waitMs: tokenWait,
      used: limits.tpm - Math.floor(tokenBucket.remaining(now)),
      cap: limits.tpm,
      headers,
    };
  }

  reset(): void {
    this.buckets.clear();
  }
}

function headersOf(limits: ModelLimits, requests: MinuteBucket, tokens: MinuteBucket, now: number) {
  return {
    'x-ratelimit-limit-requests': String(limits.rpm),
    'x-ratelimit-limit-tokens': String(limits.tpm),
    'x-ratelimit-remaining-requests': String(Math.max(0, Math.floor(requests.remaining(now)))),
    'x-ratelimit-remaining-tokens': String(Math.max(0, Math.floor(tokens.remaining(now)))),
    'x-ratelimit-reset-requests': goDuration(requests.untilFull(now)),
    'x-ratelimit-reset-tokens': goDuration(tokens.untilFull(now)),
  };
}
