import { abortError, type Clock } from '../core/clock.js';

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A clock that only moves when told. `advance(ms)` wakes every sleeper whose time has come, in order,
 * letting each one's continuation run before the next wakes.
 */
export class FakeClock implements Clock {
  private time: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** How many sleeps are waiting; lets a test wait until the code under test has gone to sleep. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** The time the next sleeper wakes at, if any. */
  get nextWake(): number | undefined {
    return this.sleepers[0]?.at;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = {
        at: this.time + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
      this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    });
  }

  /** Moves time forward by `ms`, waking sleepers due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      const next = this.sleepers[0];
      if (!next || next.at > target) break;
      this.sleepers.shift();
      this.time = Math.max(this.time, next.at);
      next.resolve();
      await flushMicrotasks();
    }
    this.time = target;
    await flushMicrotasks();
  }

  /** Jumps to the next sleeper's wake time and wakes it; returns false if nobody sleeps. */
  async runNext(): Promise<boolean> {
    const next = this.sleepers[0];
    if (!next) return false;
    await this.advance(next.at - this.time);
    return true;
  }

  /** Sets the time without waking anybody (e.g. to simulate a clock far in the future). */
  set(time: number): void {
    this.time = time;
  }
}

/** Lets pending promise continuations run (several turns, since chains are several deep). */
export async function flushMicrotasks(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}
