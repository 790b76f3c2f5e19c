import { abortError, type Clock } from '../core/clock.js';
import { NEVER_ABORTED, startTimer } from './timers.js';

interface Waiter {
  admit: () => void;
}

/**
 * One holder at a time, first come first served; a waiter leaves the line when its signal aborts or
 * its deadline passes. Limiters use it so only the head of a process's line polls the shared store
 * (no thundering herd at a window boundary) and callers are served in arrival order.
 */
export class FifoGate {
  private held = false;
  private readonly line: Waiter[] = [];

  constructor(private readonly clock: Clock) {}

  get waiting(): number {
    return this.line.length;
  }

  enter(signal: AbortSignal, deadline: number, onDeadline: () => unknown): Promise<void> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      let cancelTimer = () => {};
      const leaveLine = () => {
        const index = this.line.indexOf(waiter);
        if (index >= 0) this.line.splice(index, 1);
        signal.removeEventListener('abort', onAbort);
        cancelTimer();
      };
      const onAbort = () => {
        leaveLine();
        reject(abortError(signal));
      };
      const waiter: Waiter = {
        admit: () => {
          signal.removeEventListener('abort', onAbort);
          cancelTimer();
          resolve();
        },
      };
      // The shared never-aborting signal would collect one listener per waiter (and a leak warning).
      if (signal !== NEVER_ABORTED) signal.addEventListener('abort', onAbort, { once: true });
      const untilDeadline = deadline - this.clock.now();
      if (Number.isFinite(untilDeadline)) {
        cancelTimer = startTimer(this.clock, Math.max(0, untilDeadline), () => {
          leaveLine();
          reject(onDeadline());
        });
      }
      this.line.push(waiter);
    });
  }

  leave(): void {
    const next = this.line.shift();
    if (next) next.admit();
    else this.held = false;
  }
}
