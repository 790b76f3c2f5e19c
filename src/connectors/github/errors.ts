import { z } from 'zod';
import {
  parseJsonBody,
  type UpstreamErrorReader,
  type UpstreamErrorReading,
} from '../../http/upstream-error.js';

/** GitHub's error body: `{ message, documentation_url, status, errors? }`. */
const errorBody = z
  .object({
    message: z.string().optional(),
    documentation_url: z.string().optional(),
    errors: z
      .array(
        z
          .object({
            resource: z.string().optional(),
            field: z.string().optional(),
            code: z.string().optional(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();

/** "You have exceeded a secondary rate limit…" (and the older "abuse detection mechanism"). */
const SECONDARY = /secondary rate limit|abuse detection/i;

/** The first wait after a secondary limit without `retry-after`, in ms: GitHub asks for at least a minute. */
export const SECONDARY_BASE_MS = 60_000;
/** The longest wait the doubling reaches, in ms. */
export const SECONDARY_MAX_MS = 15 * 60_000;

/**
 * The wait after a secondary limit whose answer names none: at least a minute, doubled for each hit
 * that follows within twice the previous wait (GitHub: "wait at least one minute … increase the time
 * between retries exponentially"), back to a minute once the hits stop.
 */
export class SecondaryBackoff {
  private last: { at: number; delayMs: number } | undefined;

  next(now: number): number {
    const previous = this.last;
    const delayMs =
      previous && now - previous.at < 2 * previous.delayMs
        ? Math.min(previous.delayMs * 2, SECONDARY_MAX_MS)
        : SECONDARY_BASE_MS;
    this.last = { at: now, delayMs };
    return delayMs;
  }
}

/**
 * Reads GitHub's error answers. A 403 or 429 is a limit when `x-ratelimit-remaining` is 0 (primary:
 * the headers say until when) or its message names a secondary limit (transient even on a 403; its
 * `retry-after` is honoured, else the `SecondaryBackoff` wait). Any other 403 is a permission refusal,
 * left permanent. The message, the 422 `errors[0].code` and the limit kind ride along.
 * https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api
 */
export function githubErrorReader(backoff = new SecondaryBackoff()): UpstreamErrorReader {
  return ({ status, headers, body }, now) => {
    const parsed = errorBody.safeParse(parseJsonBody(body));
    const e = parsed.success ? parsed.data : {};
    const code = e.errors?.[0]?.code;
    const reading: UpstreamErrorReading = {
      ...(e.message !== undefined && { message: e.message }),
      ...(code !== undefined && { code }),
      ...(e.documentation_url !== undefined && { details: { documentationUrl: e.documentation_url } }),
    };
    if (status !== 403 && status !== 429) return reading;
    if (headers['x-ratelimit-remaining'] === '0') {
      return { ...reading, details: { ...reading.details, limit: 'primary' } };
    }
    if (e.message === undefined || !SECONDARY.test(e.message)) return reading;
    const told = headers['retry-after'] !== undefined;
    return {
      ...reading,
      classification: 'transient',
      ...(!told && { retryAfterMs: backoff.next(now) }),
      details: { ...reading.details, limit: 'secondary' },
    };
  };
}
