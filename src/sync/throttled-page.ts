import { ErrorCode, PatchbayError } from '../core/errors.js';

/** A page the source would not serve for now: throttled (429, 503 with Retry-After, our own rate limit). */
export interface ThrottledPage {
  /** The upstream's status, or undefined when our own rate limiter for the connection refused the call. */
  status: number | undefined;
  /** How long the source asked to wait, when it said. */
  retryAfterMs: number | undefined;
}

/**
 * Whether a read failed because the source throttles it, after the HTTP client's own attempts: a 429
 * (Graph's `TooManyRequests` and `ApplicationThrottled`, HubSpot's limits), a 503 that says when to come
 * back, or the connection's rate limiter with no slot before the call's deadline. Such a page is worth
 * asking for again once the wait is over; any other failure ends the run as before.
 */
export function throttledPage(error: unknown): ThrottledPage | undefined {
  if (!(error instanceof PatchbayError)) return undefined;
  // RETRIES_EXHAUSTED carries its last failure as the cause (and copies its status and Retry-After).
  const last =
    error.code === ErrorCode.RETRIES_EXHAUSTED && error.cause instanceof PatchbayError ? error.cause : error;
  const retryAfterMs = error.retryAfterMs ?? last.retryAfterMs;
  const status = last.status ?? error.status;
  if (last.code === ErrorCode.RATE_LIMITED) return { status, retryAfterMs };
  if (status === 503 && retryAfterMs !== undefined) return { status, retryAfterMs };
  return undefined;
}

/**
 * The wait before asking for a throttled page again: the source's Retry-After when it gave one, else
 * 1 s doubling with each wait in a row (no jitter: one runner per sync, by lease).
 */
export function throttleWaitMs(throttle: ThrottledPage, waitsInARow: number): number {
  return Math.max(0, Math.ceil(throttle.retryAfterMs ?? 1000 * 2 ** Math.min(waitsInARow, 8)));
}

/** Why the run waits, for its report, the log and people: "429 (Retry-After 0.35 s)". */
export function describeThrottle(throttle: ThrottledPage, waitMs: number): string {
  const who =
    throttle.status === undefined ? 'the connection’s rate limit' : `the source answered ${throttle.status}`;
  const asked =
    throttle.retryAfterMs === undefined
      ? `no Retry-After, waiting ${waitMs / 1000} s`
      : `Retry-After ${throttle.retryAfterMs / 1000} s`;
  return `${who} (${asked})`;
}
