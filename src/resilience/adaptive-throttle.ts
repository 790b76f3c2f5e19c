import { type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { type Classifier, defaultClassifier, upstreamSignal } from './classification.js';
import { checkInteger, checkKnownKeys, checkNumber, defined } from './options.js';
import type { ExecuteOptions, Policy, PolicyContext } from './policy.js';
import { toExecuteOptions } from './policy.js';
import { NEVER_ABORTED } from './timers.js';

export interface AdaptiveThrottleOptions {
  /** The upstream's name, in the refusal's message. Defaults to "default". */
  name?: string;
  /**
   * How many calls per accepted one may go before the throttle refuses some: calls are refused with
   * probability max(0, (requests − k·accepts) / (requests + 1)). Defaults to 2 (Google SRE's value:
   * an upstream accepting half of what it gets is fed in full).
   */
  k?: number;
  /** The window requests and accepts are counted over, in ms. Defaults to 60 s. */
  windowMs?: number;
  /** Buckets the window is split into. Defaults to 10. */
  buckets?: number;
  /**
   * Requests the window must hold before anything is refused: fewer are too few to judge an upstream
   * by, and too few to hurt it. Defaults to 10.
   */
  minimumRequests?: number;
  clock?: Clock;
  random?: () => number;
  classifier?: Classifier;
}

export const adaptiveThrottleDefaults = {
  name: 'default',
  k: 2,
  windowMs: 60_000,
  buckets: 10,
  minimumRequests: 10,
} as const;

const KNOWN = [
  'name',
  'k',
  'windowMs',
  'buckets',
  'minimumRequests',
  'clock',
  'random',
  'classifier',
] as const;

/**
 * Client-side adaptive throttling (Google SRE book, "Handling Overload"): over a sliding window, every
 * call sent counts as a request once it ends, and every call the upstream accepted as an accept; a new call is
 * refused here, with `THROTTLED`, with probability max(0, (requests − k·accepts) / (requests + 1)).
 *
 * An upstream that accepts a fair share (1/k or more) of what it gets is fed at full rate; one that
 * accepts less is fed about k times what it accepts, rising as it recovers (each accept lets k more
 * through) rather than one probe at a time; one that accepts nothing gets a trickle, which a breaker
 * behind the throttle turns into a probe per period.
 *
 * Unlike the book, refused calls are not counted as requests: the book's clients drop what is refused,
 * while a refused delivery comes back and would be counted again each time, so a backlog would keep an
 * upstream refused long after it started accepting.
 *
 * Accepted: a success, or an answer that proves the upstream is up (4xx). Not accepted: transient
 * failures and rate limiting. Uncounted: our own refusals and cancellations (`upstreamSignal` `local`),
 * an inner breaker's included. The counts live in this process: each client throttles on what it
 * sees, as in the book.
 */
export class AdaptiveThrottle implements Policy {
  readonly name: string;
  readonly k: number;
  readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly classifier: Classifier;
  /** [bucket start, requests, accepts], oldest first, at most `buckets` of them. */
  private readonly buckets: [number, number, number][] = [];
  private readonly bucketCount: number;
  private readonly minimumRequests: number;

  constructor(options: AdaptiveThrottleOptions = {}) {
    checkKnownKeys('throttle', options, KNOWN);
    const o = { ...adaptiveThrottleDefaults, ...defined(options) };
    this.name = o.name;
    this.k = checkNumber('throttle.k', o.k, 1);
    this.windowMs = checkNumber('throttle.windowMs', o.windowMs, 1);
    this.bucketCount = checkInteger('throttle.buckets', o.buckets, 1, 1000);
    this.bucketMs = this.windowMs / this.bucketCount;
    this.minimumRequests = checkInteger('throttle.minimumRequests', o.minimumRequests, 0);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.classifier = options.classifier ?? defaultClassifier;
  }

  /** Requests and accepts in the window now. */
  counts(): { requests: number; accepts: number } {
    const since = this.clock.now() - this.windowMs;
    let requests = 0;
    let accepts = 0;
    for (const [start, r, a] of this.buckets) {
      if (start <= since) continue;
      requests += r;
      accepts += a;
    }
    return { requests, accepts };
  }

  /** The probability that a call made now is refused. */
  refusalProbability(): number {
    const { requests, accepts } = this.counts();
    if (requests < this.minimumRequests) return 0;
    return Math.max(0, (requests - this.k * accepts) / (requests + 1));
  }

  async execute<T>(
    fn: (context: PolicyContext) => Promise<T> | T,
    options?: ExecuteOptions | AbortSignal,
  ): Promise<T> {
    const opts = toExecuteOptions(options);
    this.admit();
    let value: T;
    try {
      value = await fn({
        signal: opts.signal ?? NEVER_ABORTED,
        attempt: opts.attempt ?? 1,
        deadline: opts.deadline ?? Number.POSITIVE_INFINITY,
      });
    } catch (error) {
      this.settle(error);
      throw error;
    }
    this.settle(undefined);
    return value;
  }

  /** Throws `THROTTLED` when the throttle refuses a call now. */
  admit(): void {
    const p = this.refusalProbability();
    if (p > 0 && this.random() < p) {
      const { requests, accepts } = this.counts();
      throw new PatchbayError(
        ErrorCode.THROTTLED,
        `"${this.name}" is throttled: it accepted ${accepts} of the last ${requests} calls`,
        { retryAfterMs: Math.ceil(this.bucketMs), classification: 'transient' },
      );
    }
  }

  /**
   * Counts an admitted call once it ended (`undefined` for a success, else its error): calls still in
   * flight are not counted, or a burst to a slow upstream would be refused before any had come back.
   */
  settle(error: unknown): void {
    const signal = error === undefined ? 'answering' : upstreamSignal(error, this.classifier);
    // A local refusal or cancellation is ours, not the upstream's: not counted.
    if (signal !== 'local') this.add(signal === 'answering' ? 1 : 0);
  }

  /** One more request, accepted or not. */
  private add(accepts: 0 | 1): void {
    const now = this.clock.now();
    const start = Math.floor(now / this.bucketMs) * this.bucketMs;
    const last = this.buckets[this.buckets.length - 1];
    if (last && last[0] === start) {
      last[1]++;
      last[2] += accepts;
      return;
    }
    this.buckets.push([start, 1, accepts]);
    while (this.buckets.length > this.bucketCount) this.buckets.shift();
  }
}
