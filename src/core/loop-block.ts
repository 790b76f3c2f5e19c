import { performance } from 'node:perf_hooks';

/** Synchronous work longer than this in a handler or transform is reported (docs/operations.md). */
export const LOOP_BLOCK_MS = 50;

/**
 * Told when an in-process handler or a sync's transforms held the event loop over `LOOP_BLOCK_MS`:
 * `subject` is `handler:<destination id>` or `transform:<sync id>`, `ms` the measured time. The engine
 * counts it, logs it and records it for `doctor`.
 */
export type LoopBlockReporter = (subject: string, ms: number) => void;

/**
 * Calls `fn` and hands `done` the time its synchronous part took — all of a transform, an async handler
 * until its first `await` — thrown or not. Two `performance.now()` reads: tens of nanoseconds. CPU an
 * async handler spends after an `await` is not attributed (the loop runs other work between slices).
 */
export function measureSync<T>(fn: () => T, done: (ms: number) => void): T {
  const started = performance.now();
  try {
    return fn();
  } finally {
    done(performance.now() - started);
  }
}
