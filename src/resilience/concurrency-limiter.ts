import { checkInteger, checkKnownKeys, checkNumber } from './options.js';
import type { Grant, RateLimitStore, StoreTime } from './rate-limit-store.js';
import { type LimiterBaseOptions, StoreRateLimiter } from './rate-limiter.js';

export interface ConcurrencyLimiterOptions extends Omit<LimiterBaseOptions, 'adaptive'> {
  /** Calls in flight at once (Graph: 4 per mailbox). */
  limit: number;
  /**
   * A slot not released after this long is freed, in ms: its holder may have died. Keep it above
   * the longest call (timeout × attempts). Defaults to 2 min.
   */
  leaseMs?: number;
  /** How often a waiting process asks a shared store for a slot freed by another process, in ms. Defaults to 50 ms. */
  pollIntervalMs?: number;
}

const KNOWN = [
  'limit',
  'leaseMs',
  'pollIntervalMs',
  'name',
  'store',
  'fallbackStore',
  'clock',
  'registry',
  'onStoreError',
];

/**
 * Caps calls in flight, across processes when the store is shared. Slots are leases: release them
 * (the HTTP client does) or they expire after `leaseMs`. A release in this process wakes the next
 * waiter at once; releases in other processes are seen within `pollIntervalMs`.
 */
export class ConcurrencyLimiter extends StoreRateLimiter {
  readonly limit: number;
  readonly leaseMs: number;
  private readonly poll: number;

  constructor(options: ConcurrencyLimiterOptions) {
    checkKnownKeys('rateLimit', options, KNOWN);
    super({ ...options, adaptive: true });
    this.limit = checkInteger('rateLimit.limit', options.limit, 1);
    this.leaseMs = checkNumber('rateLimit.leaseMs', options.leaseMs ?? 120_000, 1);
    this.poll = checkNumber('rateLimit.pollIntervalMs', options.pollIntervalMs ?? 50, 1);
  }

  protected get capacity(): number {
    return 1;
  }

  protected override get pollIntervalMs(): number {
    return this.poll;
  }

  protected tryAcquire(store: RateLimitStore, now: StoreTime, _cost: number, token: string): Promise<Grant> {
    return store.acquireLease(this.name, { limit: this.limit, leaseMs: this.leaseMs, now, token });
  }

  protected override onRelease(token: string): void {
    this.withStore((store) => store.releaseLease(this.name, token)).then(
      () => this.wake(),
      () => {
        // The lease expires on its own after leaseMs; the store error was reported by withStore.
      },
    );
  }

  protected async reduce(): Promise<void> {
    // A concurrency cap has no quota to reduce; 429s still block it (see observe).
  }
}
