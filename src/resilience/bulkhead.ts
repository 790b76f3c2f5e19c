import { abortError } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { checkInteger, checkKnownKeys } from './options.js';
import type { ExecuteOptions, Policy, PolicyContext } from './policy.js';
import { toExecuteOptions } from './policy.js';
import { NEVER_ABORTED } from './timers.js';

export interface BulkheadOptions {
  /** Executions running at once. Defaults to 10. */
  maxConcurrent?: number;
  /** Executions waiting for a slot; one more is refused with `BULKHEAD_FULL`. Defaults to 0. */
  maxQueue?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Caps concurrency in-process, with a bounded FIFO queue. A queued caller whose signal aborts leaves
 * the queue at once. (For a cap shared across processes, use `ConcurrencyLimiter` with a store.)
 */
export class Bulkhead implements Policy {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(options: BulkheadOptions = {}) {
    checkKnownKeys('bulkhead', options, ['maxConcurrent', 'maxQueue']);
    this.maxConcurrent = checkInteger('bulkhead.maxConcurrent', options.maxConcurrent ?? 10, 1);
    this.maxQueue = checkInteger('bulkhead.maxQueue', options.maxQueue ?? 0, 0);
  }

  /** Executions running now. */
  get active(): number {
    return this.running;
  }

  /** Executions waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  async execute<T>(
    fn: (context: PolicyContext) => Promise<T> | T,
    options?: ExecuteOptions | AbortSignal,
  ): Promise<T> {
    const opts = toExecuteOptions(options);
    const signal = opts.signal ?? NEVER_ABORTED;
    await this.enter(signal);
    try {
      return await fn({
        signal,
        attempt: opts.attempt ?? 1,
        deadline: opts.deadline ?? Number.POSITIVE_INFINITY,
      });
    } finally {
      this.leave();
    }
  }

  private enter(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    if (this.running < this.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(
        new PatchbayError(
          ErrorCode.BULKHEAD_FULL,
          `bulkhead full: ${this.running} running and ${this.queue.length} queued`,
          { data: { maxConcurrent: this.maxConcurrent, maxQueue: this.maxQueue } },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(abortError(signal));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private leave(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next waiter, so `running` stays the same.
    if (next) next.resolve();
    else this.running--;
  }
}
