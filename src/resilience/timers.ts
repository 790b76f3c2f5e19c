import { abortError, type Clock, systemClock } from '../core/clock.js';

/** A signal that never aborts, for calls made without one. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

const CANCELLED = Object.freeze(new Error('timer cancelled'));

/**
 * Runs `fire` after `ms` on `clock`; the returned function cancels it. On the system clock this is a
 * plain `setTimeout` (no AbortController per call: aborting one costs tens of microseconds, which is
 * most of cockatiel's timeout overhead). Any other clock, such as `FakeClock`, goes through
 * `clock.sleep` so tests move time by hand.
 */
export function startTimer(clock: Clock, ms: number, fire: () => void): () => void {
  if (clock === systemClock) {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  }
  const controller = new AbortController();
  clock.sleep(ms, controller.signal).then(fire, () => {});
  return () => controller.abort(CANCELLED);
}

/** Sleeps on the clock unless there is nothing to wait for; rejects with `ABORTED` when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (ms <= 0) return Promise.resolve();
  return clock.sleep(ms, signal);
}

/**
 * A controller that aborts when `parent` does. `unlink` must be called once the child's work is done,
 * so a long-lived parent signal does not collect listeners.
 */
export function linkedController(parent: AbortSignal | undefined): {
  controller: AbortController;
  unlink: () => void;
} {
  const controller = new AbortController();
  if (!parent || parent === NEVER_ABORTED) return { controller, unlink: noop };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, unlink: noop };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { controller, unlink: () => parent.removeEventListener('abort', onAbort) };
}

function noop(): void {}
