import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { abortError, type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import { FifoGate } from './fifo-gate.js';
import { checkInteger } from './options.js';
import type { ProviderQuota } from './quota-headers.js';
import type { Grant, RateLimitStore, StoreTime } from './rate-limit-store.js';
import { MemoryRateLimitStore } from './rate-limit-store.js';
import { type ResilienceMetrics, resilienceMetrics } from './resilience-metrics.js';
import { linkedController, NEVER_ABORTED, sleep } from './timers.js';

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Epoch ms: a slot that would only come later fails the call with `RATE_LIMITED` now. Defaults to none. */
  deadline?: number;
  /** Slots this call takes. Defaults to 1. */
  cost?: number;
}

export interface RateLimitPermit {
  /** How long the call waited for its slot, in ms. */
  readonly waitedMs: number;
  /** Slots left after this one, as the limiter counts them. */
  readonly remaining: number;
  /** Gives the slot back (concurrency limits); a no-op for time-based limits. Safe to call twice. */
  release(): void;
}

/** What an upstream's answer said about our quota. */
export interface RateLimitFeedback {
  status?: number;
  /** From `Retry-After` or a reset header, when the upstream refused us. */
  retryAfterMs?: number;
  /** Every quota the answer reported (HubSpot reports its 10 s and its daily count together). */
  quotas?: readonly ProviderQuota[];
  /**
   * What this limiter counted left when it granted the answered call its slot. A quota reporting as
   * many or more left says nothing our own count does not, and costs no store write.
   */
  remainingAtGrant?: number;
}

export interface RateLimiter {
  readonly name: string;
  /** Waits for a slot (first come, first served) within the deadline; never fails just because it is busy. */
  acquire(options?: AcquireOptions): Promise<RateLimitPermit>;
  /** Adapts to the provider's own count: a 429 blocks until its Retry-After, a lower remaining slows us down. */
  observe(feedback: RateLimitFeedback): Promise<void>;
}

export interface LimiterBaseOptions {
  /** The quota's key; processes that share a store and a name share the limit. Defaults to "default". */
  name?: string;
  /** Where slots are counted. Defaults to a private in-memory store (this object only). */
  store?: RateLimitStore;
  /**
   * Used when `store` fails (e.g. Redis is down). Without it the call fails with `STORE_UNAVAILABLE`
   * — never exceeding the provider's limit matters more than availability; with a memory fallback,
   * each process may use the whole limit while the shared store is away.
   */
  fallbackStore?: RateLimitStore;
  /** Follow the provider's remaining-quota headers and 429s. Defaults to true. */
  adaptive?: boolean;
  clock?: Clock;
  registry?: Registry;
  onStoreError?: (error: unknown) => void;
}

/** The option names of `LimiterBaseOptions`, for each limiter's check of unknown keys. */
export const LIMITER_BASE_KEYS: readonly (keyof LimiterBaseOptions)[] = [
  'name',
  'store',
  'fallbackStore',
  'adaptive',
  'clock',
  'registry',
  'onStoreError',
];

/** Ignore resets further away than a day: a malformed header must not stall a client for weeks. */
const MAX_BLOCK_MS = 24 * 60 * 60 * 1000;

/**
 * The waiting, fairness and feedback every store-backed limiter shares; subclasses say how one
 * attempt to take a slot is made.
 */
export abstract class StoreRateLimiter implements RateLimiter {
  readonly name: string;
  protected readonly store: RateLimitStore;
  protected readonly clock: Clock;
  protected readonly adaptive: boolean;
  private readonly fallbackStore: RateLimitStore | undefined;
  private readonly onStoreError: ((error: unknown) => void) | undefined;
  private readonly metrics: ResilienceMetrics | undefined;
  private readonly gate: FifoGate;
  private wakeController: AbortController | undefined;
  private wakePending = false;
  private readonly readClock = () => this.clock.now();

  constructor(options: LimiterBaseOptions) {
    this.name = options.name ?? 'default';
    this.store = options.store ?? new MemoryRateLimitStore();
    this.fallbackStore = options.fallbackStore;
    this.clock = options.clock ?? systemClock;
    this.adaptive = options.adaptive ?? true;
    this.onStoreError = options.onStoreError;
    this.metrics = options.registry ? resilienceMetrics(options.registry) : undefined;
    this.gate = new FifoGate(this.clock);
  }

  /** The most slots one call may take. */
  protected abstract get capacity(): number;
  /** One try at the store. */
  protected abstract tryAcquire(
    store: RateLimitStore,
    now: StoreTime,
    cost: number,
    token: string,
  ): Promise<Grant>;
  /** Longest the line's head sleeps before asking again (concurrency limits poll for other processes' releases). */
  protected get pollIntervalMs(): number {
    return Number.POSITIVE_INFINITY;
  }
  protected onRelease(_token: string): void {}
  protected abstract reduce(store: RateLimitStore, quota: ProviderQuota, now: number): Promise<void>;
  /**
   * Whether a quota the provider reported is this limit's. A quota over another window (HubSpot's
   * daily count next to its 10 s one) says nothing about ours; one without a window may be anyone's.
   */
  protected concerns(quota: ProviderQuota): boolean {
    return quota.windowMs === undefined;
  }
  /** The store key the limit counts under at `now` (a calendar window's key changes with the window). */
  protected keyAt(_now: number): string {
    return this.name;
  }

  async acquire(options: AcquireOptions = {}): Promise<RateLimitPermit> {
    const cost = checkInteger(`rate limiter "${this.name}" cost`, options.cost ?? 1, 1, this.capacity);
    const signal = options.signal ?? NEVER_ABORTED;
    const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    const started = this.clock.now();
    await this.gate.enter(signal, deadline, () => this.tooLate(started, deadline - started, 'queue'));
    const token = randomUUID();
    try {
      for (;;) {
        this.wakePending = false;
        // The store reads the time once it holds the key (a SQL lock can keep it waiting), so the slot
        // is stamped when it is granted rather than when it was asked for.
        const grant = await this.withStore((store) => this.tryAcquire(store, this.readClock, cost, token));
        if (grant.granted) {
          const waitedMs = this.clock.now() - started;
          this.metrics?.rateLimitWaitSeconds.observe({ limiter: this.name }, waitedMs / 1000);
          let released = false;
          return {
            waitedMs,
            remaining: grant.remaining,
            release: () => {
              if (released) return;
              released = true;
              this.onRelease(token);
            },
          };
        }
        // Counted from now, not from when the store looked: the time its reply took (a commit, a busy
        // event loop) is slack against other processes' requests still on their way.
        const current = this.clock.now();
        const wait = Math.max(1, Math.ceil(grant.retryAfterMs));
        // A concurrency slot's wait is only an upper bound (the lease's expiry): another holder may
        // release it any moment, so only a poll that would itself end past the deadline is too late.
        const nap = Math.min(wait, this.pollIntervalMs);
        if (current + nap > deadline) throw this.tooLate(started, wait, 'deadline');
        await this.nap(nap, signal);
      }
    } finally {
      this.gate.leave();
    }
  }

  async observe(feedback: RateLimitFeedback): Promise<void> {
    if (!this.adaptive) return;
    const now = this.clock.now();
    const { retryAfterMs, status } = feedback;
    const quotas = (feedback.quotas ?? []).filter((quota) => this.concerns(quota));
    let until: number | undefined;
    if (retryAfterMs !== undefined && (status === 429 || status === 403 || status === 503))
      until = now + retryAfterMs;
    else {
      for (const quota of quotas) {
        if (quota.remaining === 0 && quota.resetAt !== undefined) until = Math.max(until ?? 0, quota.resetAt);
      }
    }
    if (until !== undefined && until > now && until - now <= MAX_BLOCK_MS) {
      const at = until;
      await this.withStore((store) => store.block(this.keyAt(now), at));
      return;
    }
    const { remainingAtGrant } = feedback;
    for (const quota of quotas) {
      if (remainingAtGrant !== undefined && quota.remaining >= remainingAtGrant) continue;
      await this.withStore((store) => this.reduce(store, quota, now));
    }
  }

  /** Wakes the line's head so it asks the store again now (a local slot was released). */
  protected wake(): void {
    if (this.wakeController) this.wakeController.abort();
    else this.wakePending = true;
  }

  protected async withStore<T>(op: (store: RateLimitStore) => Promise<T>): Promise<T> {
    try {
      return await op(this.store);
    } catch (error) {
      const wrapped = new PatchbayError(
        ErrorCode.STORE_UNAVAILABLE,
        `rate limiter "${this.name}": its store failed: ${errorMessage(error)}`,
        { cause: error, classification: 'permanent', data: { limiter: this.name } },
      );
      this.onStoreError?.(wrapped);
      if (!this.fallbackStore) throw wrapped;
      return op(this.fallbackStore);
    }
  }

  private async nap(ms: number, signal: AbortSignal): Promise<void> {
    if (this.wakePending) {
      // A slot was released between our last look at the store and now.
      this.wakePending = false;
      return;
    }
    const { controller, unlink } = linkedController(signal);
    this.wakeController = controller;
    try {
      await sleep(this.clock, ms, controller.signal);
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      if (!controller.signal.aborted) throw error;
      // woken by a local release: ask the store again
    } finally {
      unlink();
      this.wakeController = undefined;
    }
  }

  private tooLate(started: number, retryAfterMs: number, reason: 'queue' | 'deadline'): PatchbayError {
    this.metrics?.rateLimitRejections.inc({ limiter: this.name, reason });
    return new PatchbayError(
      ErrorCode.RATE_LIMITED,
      `rate limiter "${this.name}" has no slot before the call's deadline (next in about ${retryAfterMs} ms)`,
      {
        retryAfterMs,
        // Retrying inside this call cannot help: the deadline is what ran out.
        classification: 'permanent',
        data: { limiter: this.name, waitedMs: this.clock.now() - started },
      },
    );
  }
}
