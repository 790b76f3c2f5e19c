import { ErrorCode, PatchbayError } from './errors.js';

/**
 * Time, injectable. Every policy, scheduler and verifier takes a `Clock` so tests move time by hand
 * instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with `ABORTED` as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function abortError(signal: AbortSignal | undefined): PatchbayError {
  const reason = signal?.reason;
  if (reason instanceof PatchbayError) return reason;
  return new PatchbayError(ErrorCode.ABORTED, 'the operation was aborted', { cause: reason });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError(signal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
