import { type FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';

/** Lets the code under test run until `count` sleeps wait on the fake clock (no real time passes). */
export async function untilSleeping(clock: FakeClock, count = 1): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (clock.pending >= count) return;
    await flushMicrotasks();
  }
  throw new Error(`expected ${count} sleeper(s) on the fake clock, found ${clock.pending}`);
}

/** Records how a promise settled without letting a rejection go unhandled. */
export function track<T>(promise: Promise<T>): { settled: () => boolean; result: Promise<T> } {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return { settled: () => done, result: promise };
}
