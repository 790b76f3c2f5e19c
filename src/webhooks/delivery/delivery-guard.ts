import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import { ErrorCode, errorMessage, isPatchbayError, PatchbayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { type EventPublisher, nullPublisher } from '../../core/publisher.js';
import type { BreakerStateStore } from '../../resilience/breaker-state-store.js';
import { consecutiveFailures, failureRate, type TripPolicy } from '../../resilience/breaker-trip.js';
import {
  type BreakerTicket,
  CircuitBreaker,
  type StateChangeEvent,
} from '../../resilience/circuit-breaker.js';
import { ConcurrencyLimiter } from '../../resilience/concurrency-limiter.js';
import type { RateLimitStore } from '../../resilience/rate-limit-store.js';
import type { RateLimitPermit } from '../../resilience/rate-limiter.js';
import { RollingWindowLimiter } from '../../resilience/rolling-window-limiter.js';
import type { Destination } from './destinations.js';
import type { AttemptResult } from './http-sender.js';

export type GuardDecision =
  | { go: true; release: (result: AttemptResult) => Promise<void> }
  | { go: false; retryAt: number; reason: string };

/**
 * Decides, per destination, whether an attempt may go now (circuit breaker, rate limit, concurrency) and
 * learns from its outcome. A refusal is a deferral: the delivery comes back at `retryAt` without an
 * attempt being counted or logged.
 */
export interface DeliveryGuard {
  acquire(destination: Destination, signal: AbortSignal): Promise<GuardDecision>;
}

/** Lets everything through (no limits, no breaker). */
export const openGuard: DeliveryGuard = {
  async acquire() {
    return { go: true, release: async () => {} };
  },
};

/**
 * A failure rate, not a run of failures: deliveries run concurrently, so bad answers from a healthy
 * receiver arrive together (a stall makes every timeout fire at once), and a run of ten opened the
 * breaker ~18 times per 10,000 deliveries to a receiver failing one request in five.
 */
export const destinationBreakerDefaults = {
  failureRate: { threshold: 0.5, windowMs: 30_000, minimumVolume: 20 },
  halfOpenAfterMs: 30_000,
} as const;

export interface DestinationGuardOptions {
  /** Where rate-limit windows and concurrency leases are counted (shared by every process). */
  rateLimits: RateLimitStore;
  /** Where breaker state lives (shared by every process). */
  breakers: BreakerStateStore;
  clock: Clock;
  random?: () => number;
  /** Operational events `destination.circuit_opened` / `destination.circuit_closed` go here. */
  publisher?: EventPublisher;
  registry?: Registry;
  logger?: Logger;
  /**
   * Longest an attempt waits in this process for a rate-limit or concurrency slot before it is deferred
   * (and its worker slot freed for other destinations), in ms. Defaults to 1 s.
   */
  maxWaitMs?: number;
  /** How often a closed breaker re-reads the shared store, in ms. Defaults to 1 s. */
  breakerSyncIntervalMs?: number;
  /**
   * Called when a destination's breaker opens, with when it half-opens: the engine moves the
   * destination's waiting jobs there in one statement, so a large backlog is not claimed and deferred
   * job by job while the breaker is open.
   */
  onOpen?: (destinationId: string, until: number) => Promise<void>;
}

/** Why an attempt was deferred, as the metric label and the job's note. */
type DeferReason = 'circuit_open' | 'concurrency' | 'rate_limit';

interface DestinationLimits {
  /** Settings the limits were built from; a redefined destination gets new ones. */
  signature: string;
  breaker: CircuitBreaker | undefined;
  halfOpenAfterMs: number;
  concurrency: ConcurrencyLimiter | undefined;
  rate: RollingWindowLimiter | undefined;
}

/** Counts against the breaker (the receiver is unreachable, slow or broken). */
const FAILED = new Error('destination failed');
/** Says nothing about the receiver's health (cancelled, refused by us, throttled). */
const IGNORED = new PatchbayError(ErrorCode.ABORTED, 'no verdict on the destination');
/** Refusals made before any connection: they are about our configuration or DNS, not the receiver. */
const REFUSED_LOCALLY = new Set<string>([ErrorCode.SSRF_BLOCKED, ErrorCode.INSECURE_URL, ErrorCode.ABORTED]);

/**
 * The one home of per-destination admission: a circuit breaker, a concurrency cap and a rate limit per
 * destination, their state in the engine's store so every worker process agrees. Order: breaker (cheap
 * and decisive), then concurrency, then the rate limit last, so a rate slot is only taken right before
 * the request starts — the receiver sees at most `perSecond` request starts in any second.
 */
export class DestinationGuard implements DeliveryGuard {
  private readonly limits = new Map<string, DestinationLimits>();
  private readonly random: () => number;
  private readonly publisher: EventPublisher;
  private readonly maxWaitMs: number;
  private readonly deferred?: Counter<'destination' | 'reason'>;
  /** Breaker transitions seen during the current call, published before it returns. */
  private readonly announcements: { type: string; key: string; payload: Record<string, unknown> }[] = [];
  /** Backlogs to move when breakers open, run with the announcements. */
  private readonly postponements: (() => Promise<void>)[] = [];

  constructor(private readonly options: DestinationGuardOptions) {
    this.random = options.random ?? Math.random;
    this.publisher = options.publisher ?? nullPublisher;
    this.maxWaitMs = options.maxWaitMs ?? 1000;
    if (!Number.isFinite(this.maxWaitMs) || this.maxWaitMs < 0) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `maxWaitMs must be a number of ms ≥ 0, got ${String(options.maxWaitMs)}`,
      );
    }
    if (options.registry) {
      this.deferred = new Counter({
        name: 'patchbay_delivery_deferred_total',
        help: 'Delivery attempts put off without counting (circuit_open, concurrency, rate_limit), by destination.',
        labelNames: ['destination', 'reason'],
        registers: [options.registry],
      });
    }
  }

  /** The breaker state of a destination as this process sees it (`closed` when it has none). */
  breakerState(destinationId: string): 'closed' | 'open' | 'half-open' {
    return this.limits.get(destinationId)?.breaker?.state ?? 'closed';
  }

  async acquire(destination: Destination, signal: AbortSignal): Promise<GuardDecision> {
    const limits = this.limitsFor(destination);
    const { clock } = this.options;
    let ticket: BreakerTicket | undefined;
    let slot: RateLimitPermit | undefined;
    try {
      if (limits.breaker) {
        try {
          ticket = await limits.breaker.acquire();
        } catch (err) {
          if (!isPatchbayError(err, ErrorCode.CIRCUIT_OPEN)) throw err;
          return this.defer(destination, 'circuit_open', this.breakerRetryAt(limits, err));
        }
      }
      // From here on a refusal, or a store failure, must hand back what was taken: the probe slot of a
      // half-open breaker and the concurrency lease would otherwise stay held until they expire.
      const giveBack = async () => {
        slot?.release();
        await ticket?.done(IGNORED);
      };
      try {
        if (limits.concurrency) {
          slot = await this.waitFor(limits.concurrency, signal);
          if (!slot) {
            await giveBack();
            // Another attempt will free a slot at any moment: look again soon, spread out.
            return this.defer(destination, 'concurrency', clock.now() + 100 + this.random() * 900);
          }
        }
        if (limits.rate) {
          const deadline = clock.now() + this.maxWaitMs;
          try {
            await limits.rate.acquire({ deadline, signal });
          } catch (err) {
            if (!isPatchbayError(err, ErrorCode.RATE_LIMITED)) throw err;
            await giveBack();
            // The wait is exact (the oldest slot leaving the window); the spread keeps a backlog from
            // coming back all at once.
            const wait = err.retryAfterMs ?? 1000;
            return this.defer(destination, 'rate_limit', clock.now() + wait + this.random() * 1000);
          }
        }
      } catch (err) {
        await giveBack();
        throw err;
      }
    } finally {
      await this.flushAnnouncements();
    }
    return {
      go: true,
      release: async (result) => {
        slot?.release();
        if (ticket) {
          const verdict = breakerVerdict(result);
          await (verdict === 'success'
            ? ticket.done()
            : ticket.done(verdict === 'failure' ? FAILED : IGNORED));
          await this.flushAnnouncements();
        }
      },
    };
  }

  private defer(destination: Destination, reason: DeferReason, retryAt: number): GuardDecision {
    this.deferred?.inc({ destination: destination.id, reason });
    return { go: false, retryAt: Math.round(retryAt), reason: REASON_TEXT[reason] };
  }

  /**
   * Open: come back when it half-opens, spread over a tenth of the open period so the backlog does not
   * arrive in one burst. Half-open (another attempt is the probe): look again within 10–100% of the open
   * period (at most 10 s), so a recovering receiver gets its backlog ramped up rather than all at once.
   */
  private breakerRetryAt(limits: DestinationLimits, err: PatchbayError): number {
    const now = this.options.clock.now();
    const span = Math.min(Math.max(limits.halfOpenAfterMs, 100), 10_000);
    if (limits.breaker!.state === 'open') {
      return now + (err.retryAfterMs ?? span) + this.random() * 0.1 * span;
    }
    return now + span * (0.1 + 0.9 * this.random());
  }

  /** A concurrency slot within `maxWaitMs`, or undefined. */
  private async waitFor(
    limiter: ConcurrencyLimiter,
    signal: AbortSignal,
  ): Promise<RateLimitPermit | undefined> {
    const { clock } = this.options;
    if (this.maxWaitMs === 0) {
      // No waiting: take a free slot or give up now (no timer to arm, which a test's fake clock would hold).
      try {
        return await limiter.acquire({ signal, deadline: clock.now() });
      } catch (err) {
        if (isPatchbayError(err, ErrorCode.RATE_LIMITED)) return undefined;
        throw err;
      }
    }
    const timeout = new AbortController();
    const stop = new AbortController();
    void clock.sleep(this.maxWaitMs, stop.signal).then(
      () => timeout.abort(),
      () => {},
    );
    try {
      return await limiter.acquire({ signal: AbortSignal.any([signal, timeout.signal]) });
    } catch (err) {
      if (timeout.signal.aborted && !signal.aborted) return undefined;
      throw err;
    } finally {
      stop.abort();
    }
  }

  private limitsFor(destination: Destination): DestinationLimits {
    const { rateLimit } = destination;
    const breaker = destination.kind === 'http' ? destination.breaker : false;
    const signature = JSON.stringify([rateLimit, breaker, destination.timeoutMs]);
    const existing = this.limits.get(destination.id);
    if (existing?.signature === signature) return existing;
    const { clock, registry, rateLimits } = this.options;
    const name = `destination:${destination.id}`;
    const onStoreError = (error: unknown) =>
      this.options.logger?.warn(
        { destination: destination.id, err: errorMessage(error) },
        'limit store failed',
      );
    const settings = {
      trip:
        breaker && breaker.consecutiveFailures !== undefined
          ? consecutiveFailures(breaker.consecutiveFailures)
          : failureRate({
              ...destinationBreakerDefaults.failureRate,
              ...(breaker ? breaker.failureRate : {}),
            }),
      halfOpenAfterMs:
        (breaker ? breaker.halfOpenAfterMs : undefined) ?? destinationBreakerDefaults.halfOpenAfterMs,
    };
    const limits: DestinationLimits = {
      signature,
      breaker: breaker === false ? undefined : this.makeBreaker(destination.id, name, settings),
      halfOpenAfterMs: settings.halfOpenAfterMs,
      concurrency:
        rateLimit?.maxConcurrent === undefined
          ? undefined
          : new ConcurrencyLimiter({
              name: `${name}:concurrency`,
              limit: rateLimit.maxConcurrent,
              // A process that dies mid-attempt frees its slot once the attempt could no longer be running.
              leaseMs: destination.timeoutMs + 30_000,
              store: rateLimits,
              clock,
              onStoreError,
              ...(registry && { registry }),
            }),
      rate:
        rateLimit?.perSecond === undefined
          ? undefined
          : new RollingWindowLimiter({
              name: `${name}:rate`,
              ...perSecondWindow(rateLimit.perSecond),
              store: rateLimits,
              clock,
              onStoreError,
              ...(registry && { registry }),
            }),
    };
    this.limits.set(destination.id, limits);
    return limits;
  }

  private makeBreaker(
    destinationId: string,
    name: string,
    settings: { trip: TripPolicy; halfOpenAfterMs: number },
  ): CircuitBreaker {
    const { clock, registry, breakers } = this.options;
    const breaker = new CircuitBreaker({
      name,
      trip: settings.trip,
      halfOpenAfterMs: settings.halfOpenAfterMs,
      store: breakers,
      clock,
      isFailure: (error) => (error === FAILED ? true : undefined),
      ...(this.options.breakerSyncIntervalMs !== undefined && {
        syncIntervalMs: this.options.breakerSyncIntervalMs,
      }),
      ...(registry && { registry }),
      onStoreError: (error) =>
        this.options.logger?.warn(
          { destination: destinationId, err: errorMessage(error) },
          'breaker store failed',
        ),
    });
    breaker.onStateChange((change) => this.onBreakerChange(destinationId, change, settings.halfOpenAfterMs));
    return breaker;
  }

  /**
   * Every process that notices a transition reports it; the idempotency key (the shared `openedAt`)
   * makes the pipeline keep one event per transition. Re-opening after a failed probe is the same
   * outage, so only leaving `closed` is announced as opened.
   */
  private onBreakerChange(destinationId: string, change: StateChangeEvent, halfOpenAfterMs: number): void {
    if (change.to === 'open' && this.options.onOpen) {
      const until = change.openedAt + halfOpenAfterMs;
      this.postponements.push(() => this.options.onOpen!(destinationId, until));
    }
    const openedAt = new Date(change.openedAt).toISOString();
    if (change.from === 'closed' && change.to !== 'closed') {
      this.announcements.push({
        type: 'destination.circuit_opened',
        key: `destination.circuit_opened:${destinationId}:${change.openedAt}`,
        payload: {
          destinationId,
          openedAt,
          probeAt: new Date(change.openedAt + halfOpenAfterMs).toISOString(),
        },
      });
    } else if (change.to === 'closed') {
      this.announcements.push({
        type: 'destination.circuit_closed',
        key: `destination.circuit_closed:${destinationId}:${change.openedAt}`,
        payload: { destinationId, openedAt, closedAt: new Date(change.at).toISOString() },
      });
    }
  }

  private async flushAnnouncements(): Promise<void> {
    while (this.postponements.length > 0) {
      try {
        await this.postponements.shift()!();
      } catch (err) {
        // Only an optimisation: the jobs are deferred one by one instead.
        this.options.logger?.warn({ err: errorMessage(err) }, 'could not postpone a destination backlog');
      }
    }
    while (this.announcements.length > 0) {
      const { type, key, payload } = this.announcements.shift()!;
      try {
        await this.publisher.publish({ type, payload, idempotencyKey: key });
      } catch (err) {
        this.options.logger?.warn({ type, err: errorMessage(err) }, 'could not publish an operational event');
      }
    }
  }
}

const REASON_TEXT: Record<DeferReason, string> = {
  circuit_open: 'deferred: the destination circuit is open',
  concurrency: 'deferred: the destination has maxConcurrent attempts in flight',
  rate_limit: 'deferred: the destination rate limit is reached',
};

/**
 * What an attempt says about the receiver's health. Transport failures, timeouts and 5xx count against
 * it; a 429 does not (it is healthy, we are too fast) and neither do refusals made before connecting;
 * any other answer (2xx, 3xx, 4xx) proves it is up.
 */
export function breakerVerdict(result: AttemptResult): 'success' | 'failure' | 'ignore' {
  if (result.outcome === 'succeeded') return 'success';
  if (result.statusCode !== null) {
    if (result.statusCode === 429) return 'ignore';
    return result.statusCode >= 500 ? 'failure' : 'success';
  }
  if (result.errorCode !== null && REFUSED_LOCALLY.has(result.errorCode)) return 'ignore';
  return 'failure';
}

/**
 * `perSecond` as a rolling window: N per 1 s for a whole N, else one per 1/rate seconds (0.5 → one per
 * 2 s; 2.5 → one per 400 ms). Never more than asked, in any window.
 */
export function perSecondWindow(perSecond: number): { limit: number; windowMs: number } {
  if (!Number.isFinite(perSecond) || perSecond <= 0) {
    throw new PatchbayError(ErrorCode.CONFIG_INVALID, `rateLimit.perSecond must be > 0, got ${perSecond}`);
  }
  if (Number.isInteger(perSecond)) return { limit: perSecond, windowMs: 1000 };
  return { limit: 1, windowMs: 1000 / perSecond };
}
