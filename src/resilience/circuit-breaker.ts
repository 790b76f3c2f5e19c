import type { Registry } from 'prom-client';
import { type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import {
  type Admission,
  admit,
  type BreakerConfig,
  type BreakerSnapshot,
  type BreakerState,
  initialSnapshot,
  type Outcome,
  record,
} from './breaker-state.js';
import type { BreakerStateStore } from './breaker-state-store.js';
import { consecutiveFailures, type TripPolicy } from './breaker-trip.js';
import { type Classifier, defaultClassifier, upstreamSignal } from './classification.js';
import { Emitter } from './events.js';
import { checkInteger, checkKnownKeys, checkNumber, defined } from './options.js';
import type { ExecuteOptions, Policy, PolicyContext } from './policy.js';
import { toExecuteOptions } from './policy.js';
import { type ResilienceMetrics, resilienceMetrics } from './resilience-metrics.js';
import { NEVER_ABORTED } from './timers.js';

export interface CircuitBreakerOptions {
  /** The upstream this breaker guards (a host or connection id); the key in a shared store. Defaults to "default". */
  name?: string;
  /** Opens after this many failures in a row (when `trip` is not given). Defaults to 5. */
  consecutiveFailures?: number;
  /** When to open: `consecutiveFailures(n)` or `failureRate({ threshold, windowMs, minimumVolume })`. */
  trip?: TripPolicy;
  /** How long the breaker stays open before letting probes through, in ms. Defaults to 30 s. */
  halfOpenAfterMs?: number;
  /** Probes let through while half-open; all must succeed to close. Defaults to 1. */
  halfOpenProbes?: number;
  /** A probe not finished after this long no longer holds its slot (its caller may have died), in ms. Defaults to 60 s. */
  probeTimeoutMs?: number;
  /** Shared state so every process agrees. Without one, the state lives in this object. */
  store?: BreakerStateStore;
  /**
   * With a store: how stale this process's view of a closed breaker may be before it reads the store
   * again, in ms; also how long successes are batched before being written. Failures and half-open
   * probes always go to the store at once; while a store call is under way, calls to a closed breaker use
   * the local view instead of each starting another. 0 reads the store on every call. Defaults to 1 s.
   */
  syncIntervalMs?: number;
  /** What counts as a failure; defaults to transient failures except rate limiting (see `outcomeOf`). */
  isFailure?: (error: unknown) => boolean | undefined;
  classifier?: Classifier;
  clock?: Clock;
  /** Prometheus registry for state, transition and rejection metrics. None by default. */
  registry?: Registry;
  /** Called when the shared store fails; the breaker then decides on its local view. */
  onStoreError?: (error: unknown) => void;
}

export const circuitBreakerDefaults = {
  name: 'default',
  consecutiveFailures: 5,
  halfOpenAfterMs: 30_000,
  halfOpenProbes: 1,
  probeTimeoutMs: 60_000,
  syncIntervalMs: 1_000,
} as const;

const KNOWN = [
  'name',
  'consecutiveFailures',
  'trip',
  'halfOpenAfterMs',
  'halfOpenProbes',
  'probeTimeoutMs',
  'store',
  'syncIntervalMs',
  'isFailure',
  'classifier',
  'clock',
  'registry',
  'onStoreError',
] as const;

export interface StateChangeEvent {
  breaker: string;
  from: BreakerState;
  to: BreakerState;
  at: number;
  /**
   * When the breaker last opened (epoch ms, shared through the store): every process that sees one
   * transition reports the same value, so listeners can dedupe on it.
   */
  openedAt: number;
}

/** A call admitted by the breaker; report its outcome exactly once. */
export interface BreakerTicket {
  readonly probe: boolean;
  /** Records the outcome, once: `done()` for success, `done(error)` for a failure (classified by `outcomeOf`). */
  done(...error: [] | [unknown]): Promise<void>;
}

/** An admission decided in this process (`acquireNow`); report it with `recordNow`. */
export interface LocalTicket {
  readonly probe: boolean;
  readonly generation: number;
  readonly startedAt: number;
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * A circuit breaker per upstream: consecutive-failure or failure-rate-over-window tripping with a
 * minimum volume, half-open with N probes, state changes as events and metrics, and optionally its
 * state in a shared store (SQL or Redis) so all processes open and close together.
 */
export class CircuitBreaker implements Policy {
  readonly name: string;
  private readonly config: BreakerConfig;
  private readonly store: BreakerStateStore | undefined;
  private readonly syncIntervalMs: number;
  private readonly clock: Clock;
  private readonly classifier: Classifier;
  private readonly isFailure: ((error: unknown) => boolean | undefined) | undefined;
  private readonly metrics: ResilienceMetrics | undefined;
  private readonly onStoreError: ((error: unknown) => void) | undefined;
  private snapshot: BreakerSnapshot = initialSnapshot;
  private syncedAt = Number.NEGATIVE_INFINITY;
  /** Store calls in flight. While one is, a closed breaker does not start another to sync: see `inSync`. */
  private storeCalls = 0;
  private pendingSuccesses = 0;
  private readonly changes = new Emitter<StateChangeEvent>();
  /** Fires when this process sees the state change (its own transitions and ones read from the store). */
  readonly onStateChange = this.changes.on;

  constructor(options: CircuitBreakerOptions = {}) {
    checkKnownKeys('breaker', options, KNOWN);
    const o = { ...circuitBreakerDefaults, ...defined(options) };
    this.name = o.name;
    this.config = {
      trip: options.trip ?? consecutiveFailures(o.consecutiveFailures),
      halfOpenAfterMs: checkNumber('breaker.halfOpenAfterMs', o.halfOpenAfterMs, 0),
      halfOpenProbes: checkInteger('breaker.halfOpenProbes', o.halfOpenProbes, 1, 1000),
      probeTimeoutMs: checkNumber('breaker.probeTimeoutMs', o.probeTimeoutMs, 1),
    };
    this.syncIntervalMs = checkNumber('breaker.syncIntervalMs', o.syncIntervalMs, 0);
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.classifier = options.classifier ?? defaultClassifier;
    this.isFailure = options.isFailure;
    this.onStoreError = options.onStoreError;
    this.metrics = options.registry ? resilienceMetrics(options.registry) : undefined;
    this.metrics?.breakerState.set({ breaker: this.name }, 0);
  }

  /** The state as this process last saw it. */
  get state(): BreakerState {
    return this.snapshot.state;
  }

  /** Reads the shared store now (no-op without one) and returns the state. */
  async refresh(): Promise<BreakerState> {
    if (this.store) await this.shared((s) => s);
    return this.snapshot.state;
  }

  async execute<T>(
    fn: (context: PolicyContext) => Promise<T> | T,
    options?: ExecuteOptions | AbortSignal,
  ): Promise<T> {
    const opts = toExecuteOptions(options);
    const ticket = await this.acquire();
    let value: T;
    try {
      value = await fn({
        signal: opts.signal ?? NEVER_ABORTED,
        attempt: opts.attempt ?? 1,
        deadline: opts.deadline ?? Number.POSITIVE_INFINITY,
      });
    } catch (error) {
      await ticket.done(error);
      throw error;
    }
    await ticket.done();
    return value;
  }

  /** Asks to let one call through; rejects with `CIRCUIT_OPEN` (carrying `retryAfterMs`) when not. */
  async acquire(): Promise<BreakerTicket> {
    const now = this.clock.now();
    let admission: Admission;
    if (!this.store || (this.snapshot.state === 'closed' && this.inSync(now))) {
      const r = admit(this.snapshot, now, this.config);
      this.apply(r.next);
      admission = r.admission;
    } else {
      let decided: Admission | undefined;
      await this.shared((s) => {
        const r = admit(s, now, this.config);
        decided = r.admission;
        return r.next;
      });
      admission = decided!;
    }
    const ticket = this.admitted(admission);
    let reported = false;
    return {
      probe: ticket.probe,
      done: async (...error: unknown[]) => {
        if (reported) return;
        reported = true;
        await this.report(ticket, error.length === 0 ? 'success' : this.outcomeOf(error[0]));
      },
    };
  }

  /**
   * `acquire` without a promise, for hot paths: a breaker without a shared store decides alone, so
   * there is nothing to wait for. Answers `undefined` when the store must be asked (use `acquire`);
   * throws `CIRCUIT_OPEN` like `acquire`. Report the outcome with `recordNow`, exactly once.
   */
  acquireNow(): LocalTicket | undefined {
    if (this.store) return undefined;
    const r = admit(this.snapshot, this.clock.now(), this.config);
    this.apply(r.next);
    return this.admitted(r.admission);
  }

  /** Records the outcome of a ticket from `acquireNow` at once: `failed` false on success, else with its error. */
  recordNow(ticket: LocalTicket, failed: boolean, error?: unknown): void {
    const outcome = failed ? this.outcomeOf(error) : 'success';
    this.apply(record(this.snapshot, ticket, outcome, this.clock.now(), this.config));
  }

  private admitted(admission: Admission): LocalTicket {
    if (!admission.admitted) {
      this.metrics?.breakerRejections.inc({ breaker: this.name });
      throw new PatchbayError(ErrorCode.CIRCUIT_OPEN, `circuit "${this.name}" is open`, {
        retryAfterMs: admission.retryAfterMs,
        classification: 'permanent',
        // Refused before the call was made: a once-only sender may free its key.
        notSent: true,
        data: { breaker: this.name },
      });
    }
    return admission;
  }

  /**
   * What an error means for the upstream's health. Transient failures (5xx, timeouts, connection
   * errors) count against it; a 429 does not (the upstream is healthy, we are just too fast) and nor
   * do cancellations; permanent errors (4xx) prove it answers, so they count as successes.
   */
  outcomeOf(error: unknown): Outcome {
    const custom = this.isFailure?.(error);
    if (custom !== undefined) return custom ? 'failure' : 'success';
    if (error instanceof PatchbayError) {
      const signal = upstreamSignal(error, this.classifier);
      return signal === 'failing' ? 'failure' : signal === 'answering' ? 'success' : 'ignore';
    }
    // An unknown exception from arbitrary code is a failure, as in cockatiel's default.
    return 'failure';
  }

  private async report(ticket: { probe: boolean; generation: number; startedAt: number }, outcome: Outcome) {
    const now = this.clock.now();
    const s = this.snapshot;
    const batchable =
      this.store &&
      !ticket.probe &&
      s.state === 'closed' &&
      ticket.generation === s.generation &&
      (outcome === 'ignore' || (outcome === 'success' && !this.config.trip.successMatters(s.counters)));
    if (!this.store) {
      this.apply(record(this.snapshot, ticket, outcome, now, this.config));
      return;
    }
    if (batchable) {
      if (outcome === 'success') this.pendingSuccesses++;
      if (this.inSync(now)) return;
    }
    const pending = this.pendingSuccesses;
    const applied = batchable ? { ...ticket, generation: -1 } : ticket;
    const ok = await this.shared((cur) =>
      record(cur, applied, batchable ? 'ignore' : outcome, now, this.config, pending),
    );
    if (ok) this.pendingSuccesses -= pending;
  }

  /**
   * Whether a closed breaker may trust its local view: it synced less than `syncIntervalMs` ago, or a
   * store call is under way and will bring the shared state. Without the second, every call that started
   * or ended while the store answered would sync too: 64 concurrent deliveries meant 64 compare-and-set
   * writers on one row, retrying each other until they gave up.
   */
  private inSync(now: number): boolean {
    return now - this.syncedAt < this.syncIntervalMs || (this.syncIntervalMs > 0 && this.storeCalls > 0);
  }

  /** Runs a transition against the shared store; on a store failure, against the local view. */
  private async shared(mutate: (s: BreakerSnapshot) => BreakerSnapshot): Promise<boolean> {
    this.storeCalls++;
    try {
      const next = await this.store!.update(this.name, (cur) => mutate(cur ?? initialSnapshot));
      this.syncedAt = this.clock.now();
      this.apply(next);
      return true;
    } catch (error) {
      this.onStoreError?.(
        new PatchbayError(
          ErrorCode.STORE_UNAVAILABLE,
          `breaker "${this.name}" store failed: ${errorMessage(error)}`,
          {
            cause: error,
          },
        ),
      );
      this.apply(mutate(this.snapshot));
      return false;
    } finally {
      this.storeCalls--;
    }
  }

  private apply(next: BreakerSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    if (previous.state === next.state) return;
    const at = this.clock.now();
    this.metrics?.breakerState.set({ breaker: this.name }, STATE_VALUE[next.state]);
    this.metrics?.breakerTransitions.inc({ breaker: this.name, from: previous.state, to: next.state });
    if (this.changes.hasListeners)
      this.changes.emit({
        breaker: this.name,
        from: previous.state,
        to: next.state,
        at,
        openedAt: next.openedAt,
      });
  }
}
