import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import { ErrorCode, errorMessage, isPatchbayError, PatchbayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { type EventPublisher, nullPublisher } from '../../core/publisher.js';
import { AdaptiveThrottle } from '../../resilience/adaptive-throttle.js';
import type { BreakerStateStore } from '../../resilience/breaker-state-store.js';
import {
  consecutiveFailures,
  failureRate,
  failureRun,
  type TripPolicy,
} from '../../resilience/breaker-trip.js';
import { CircuitBreaker, type StateChangeEvent } from '../../resilience/circuit-breaker.js';
import { attemptVerdict } from '../../resilience/classification.js';
import { ConcurrencyLimiter } from '../../resilience/concurrency-limiter.js';
import { limiterPolicy } from '../../resilience/limiter-policy.js';
import { pipeline } from '../../resilience/pipeline.js';
import type { Policy } from '../../resilience/policy.js';
import type { RateLimitStore } from '../../resilience/rate-limit-store.js';
import { RollingWindowLimiter } from '../../resilience/rolling-window-limiter.js';
import type { Destination } from './destinations.js';
import type { AttemptResult } from './http-sender.js';

/** What the guard did with an attempt: sent it (and learnt from it), or put it off without counting it. */
export type Guarded = { sent: AttemptResult } | { deferred: { retryAt: number; reason: string } };

/**
 * Decides, per destination, whether an attempt may go now (adaptive throttle, circuit breaker,
 * concurrency, rate limit), sends it, and learns from its outcome. A refusal is a deferral: the
 * delivery comes back at `retryAt` without an attempt being counted or logged.
 */
export interface DeliveryGuard {
  run(
    destination: Destination,
    signal: AbortSignal,
    send: (signal: AbortSignal) => Promise<AttemptResult>,
  ): Promise<Guarded>;
}

/** Lets everything through (no limits, no breaker). */
export const openGuard: DeliveryGuard = {
  async run(_destination, signal, send) {
    return { sent: await send(signal) };
  },
};

/**
 * The breaker is for a receiver that is down: it opens after 30 s of nothing but failures (at least 10).
 * A receiver failing some attempts — half of them, or a burst of timeouts from a stall — is the adaptive
 * throttle's: it keeps being fed at the rate it accepts (docs/decisions/0042-adaptive-delivery-throttle.md).
 * A failure-rate breaker (50 % over 30 s) starved a receiver failing every first attempt and accepting
 * the retry: each good probe's backlog of first attempts tripped it again.
 */
export const destinationBreakerDefaults = {
  failureRun: { forMs: 30_000, minimumFailures: 10 },
  halfOpenAfterMs: 30_000,
} as const;

/** The adaptive throttle in front of every destination's breaker (SRE's k = 2, over a minute). */
export const destinationThrottleDefaults = { k: 2, windowMs: 60_000 } as const;

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
type DeferReason = 'throttled' | 'circuit_open' | 'concurrency' | 'rate_limit';

interface DestinationLimits {
  /** Settings the limits were built from; a redefined destination gets new ones. */
  signature: string;
  /** throttle → breaker → concurrency → rate limit, each refusal tagged with its reason. */
  policy: Policy;
  throttle: AdaptiveThrottle | undefined;
  breaker: CircuitBreaker | undefined;
  halfOpenAfterMs: number;
}

/**
 * A stage of the composition refused the attempt before it was sent. It travels out through the
 * outer stages as `ABORTED`, which the throttle and the breaker read as no verdict on the receiver
 * (a half-open breaker's probe slot is handed back).
 */
class Refusal extends PatchbayError {
  constructor(
    readonly reason: DeferReason,
    readonly refusal: PatchbayError,
  ) {
    super(ErrorCode.ABORTED, REASON_TEXT[reason], { cause: refusal });
  }
}

/**
 * A policy whose own refusals (thrown before the call runs) become a `Refusal` naming why; what the
 * call itself throws passes through untouched.
 */
function refusing(reason: DeferReason, policy: Policy, refusal: ErrorCode): Policy {
  return {
    async execute(fn, options) {
      let ran = false;
      try {
        return await policy.execute((ctx) => {
          ran = true;
          return fn(ctx);
        }, options);
      } catch (err) {
        if (!ran && isPatchbayError(err, refusal)) throw new Refusal(reason, err);
        throw err;
      }
    },
  };
}

/**
 * The one home of per-destination admission. The attempt runs inside the resilience pipeline every
 * outbound call uses — an adaptive throttle, a circuit breaker, a concurrency cap, a rate limit — their
 * state in the engine's store (the throttle's in this process) so every worker process agrees. Order:
 * the throttle and the breaker first (cheap and decisive), then concurrency, then the rate limit last,
 * so a rate slot is only taken right before the request starts — the receiver sees at most `perSecond`
 * request starts in any second. The attempt's result is told to the throttle and breaker as the one
 * classification reads it (`attemptVerdict`).
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
        help: 'Delivery attempts put off without counting (throttled, circuit_open, concurrency, rate_limit), by destination.',
        labelNames: ['destination', 'reason'],
        registers: [options.registry],
      });
    }
  }

  /** The breaker state of a destination as this process sees it (`closed` when it has none). */
  breakerState(destinationId: string): 'closed' | 'open' | 'half-open' {
    return this.limits.get(destinationId)?.breaker?.state ?? 'closed';
  }

  /** The share of attempts to a destination the adaptive throttle refuses now (0 when it has none). */
  throttling(destinationId: string): number {
    return this.limits.get(destinationId)?.throttle?.refusalProbability() ?? 0;
  }

  async run(
    destination: Destination,
    signal: AbortSignal,
    send: (signal: AbortSignal) => Promise<AttemptResult>,
  ): Promise<Guarded> {
    const limits = this.limitsFor(destination);
    let result: AttemptResult | undefined;
    try {
      await limits.policy.execute(async () => {
        result = await send(signal);
        // Thrown, so the throttle and the breaker read it as they read any call's failure.
        const verdict = attemptVerdict(result);
        if (verdict) throw verdict;
      }, signal);
    } catch (err) {
      if (result === undefined) {
        if (err instanceof Refusal) return this.defer(destination, limits, err.reason, err.refusal);
        throw err;
      }
    } finally {
      await this.flushAnnouncements();
    }
    return { sent: result! };
  }

  private defer(
    destination: Destination,
    limits: DestinationLimits,
    reason: DeferReason,
    error: PatchbayError,
  ): Guarded {
    const now = this.options.clock.now();
    this.deferred?.inc({ destination: destination.id, reason });
    let retryAt: number;
    if (reason === 'circuit_open') retryAt = this.breakerRetryAt(limits, error);
    // Another attempt will free a slot at any moment: look again soon, spread out.
    else if (reason === 'concurrency') retryAt = now + 100 + this.random() * 900;
    // The rate limit's wait is exact (the oldest slot leaving the window); the spread keeps a backlog
    // from coming back all at once.
    else if (reason === 'rate_limit') retryAt = now + (error.retryAfterMs ?? 1000) + this.random() * 1000;
    // The throttle's odds change with every attempt that comes back: look again soon when they are
    // good, within one of its buckets when they are bad.
    else {
      const odds = limits.throttle?.refusalProbability() ?? 1;
      retryAt = now + 100 + (error.retryAfterMs ?? 1000) * odds * this.random();
    }
    return { deferred: { retryAt: Math.round(retryAt), reason: REASON_TEXT[reason] } };
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
    const halfOpenAfterMs =
      (breaker ? breaker.halfOpenAfterMs : undefined) ?? destinationBreakerDefaults.halfOpenAfterMs;
    const trip =
      breaker && breaker.consecutiveFailures !== undefined
        ? consecutiveFailures(breaker.consecutiveFailures)
        : breaker && breaker.failureRate !== undefined
          ? failureRate(breaker.failureRate)
          : failureRun(destinationBreakerDefaults.failureRun);
    const throttle =
      breaker === false
        ? undefined
        : new AdaptiveThrottle({ name, ...destinationThrottleDefaults, clock, random: this.random });
    const circuit =
      breaker === false ? undefined : this.makeBreaker(destination.id, name, trip, halfOpenAfterMs);
    const stages: Policy[] = [];
    if (throttle) stages.push(refusing('throttled', throttle, ErrorCode.THROTTLED));
    if (circuit) stages.push(refusing('circuit_open', circuit, ErrorCode.CIRCUIT_OPEN));
    if (rateLimit?.maxConcurrent !== undefined) {
      const concurrency = new ConcurrencyLimiter({
        name: `${name}:concurrency`,
        limit: rateLimit.maxConcurrent,
        // A process that dies mid-attempt frees its slot once the attempt could no longer be running.
        leaseMs: destination.timeoutMs + 30_000,
        store: rateLimits,
        clock,
        onStoreError,
        ...(registry && { registry }),
      });
      stages.push(
        refusing(
          'concurrency',
          limiterPolicy(concurrency, { clock, maxWaitMs: this.maxWaitMs }),
          ErrorCode.RATE_LIMITED,
        ),
      );
    }
    if (rateLimit?.perSecond !== undefined) {
      const rate = new RollingWindowLimiter({
        name: `${name}:rate`,
        ...perSecondWindow(rateLimit.perSecond),
        store: rateLimits,
        clock,
        onStoreError,
        ...(registry && { registry }),
      });
      stages.push(
        refusing(
          'rate_limit',
          limiterPolicy(rate, { clock, maxWaitMs: this.maxWaitMs }),
          ErrorCode.RATE_LIMITED,
        ),
      );
    }
    const limits: DestinationLimits = {
      signature,
      policy: pipeline(...stages),
      throttle,
      breaker: circuit,
      halfOpenAfterMs,
    };
    this.limits.set(destination.id, limits);
    return limits;
  }

  private makeBreaker(
    destinationId: string,
    name: string,
    trip: TripPolicy,
    halfOpenAfterMs: number,
  ): CircuitBreaker {
    const { clock, registry, breakers } = this.options;
    const breaker = new CircuitBreaker({
      name,
      trip,
      halfOpenAfterMs,
      store: breakers,
      clock,
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
    breaker.onStateChange((change) => this.onBreakerChange(destinationId, change, halfOpenAfterMs));
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
  throttled: 'deferred: the destination accepts too few attempts (adaptive throttling)',
  circuit_open: 'deferred: the destination circuit is open',
  concurrency: 'deferred: the destination has maxConcurrent attempts in flight',
  rate_limit: 'deferred: the destination rate limit is reached',
};

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
