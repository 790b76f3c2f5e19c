import type { FakeClock } from '../../src/testing/fake-clock.js';

/**
 * Lets real I/O run and moves the fake clock past every sleep due within `horizonMs` (retry backoff,
 * Retry-After, rate-limit waits) — so retries happen without real waiting. Attempt timeouts set above
 * the horizon are never fired by it.
 */
export async function drive<T>(clock: FakeClock, promise: Promise<T>, horizonMs = 60_000): Promise<T> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    const next = clock.nextWake;
    if (!done && next !== undefined && next - clock.now() <= horizonMs) await clock.runNext();
  }
  return promise;
}

/** The rejection of a promise, failing the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error('expected the call to fail');
}
