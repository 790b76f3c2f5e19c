/**
 * How long an upstream asked us to wait, from its response headers. Header names are lower case.
 *
 * Precedence: `retry-after-ms` (OpenAI, Azure), then `Retry-After` (seconds, possibly fractional as
 * Graph sends, or an HTTP-date); then a reset time when the headers say nothing is left (`x-ratelimit-reset` — GitHub, epoch seconds;
 * `ratelimit-reset` — IETF draft, seconds from now); then HubSpot's interval headers, which give no
 * reset time, so we wait one full interval (the rolling window has surely moved on by then).
 */
export function retryDelayFromHeaders(
  headers: Readonly<Record<string, string>>,
  now: number,
): number | undefined {
  // OpenAI and Azure send the wait in ms too, more precise than Retry-After's whole seconds.
  const retryAfterMs = parseMilliseconds(headers['retry-after-ms']);
  if (retryAfterMs !== undefined) return retryAfterMs;
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined) return retryAfter;

  if (headers['x-ratelimit-remaining'] === '0') {
    const reset = parseResetTime(headers['x-ratelimit-reset'], now);
    if (reset !== undefined) return Math.max(0, reset - now);
  }
  if (headers['ratelimit-remaining'] === '0') {
    const seconds = parseSeconds(headers['ratelimit-reset']);
    if (seconds !== undefined) return seconds;
  }
  if (headers['x-hubspot-ratelimit-remaining'] === '0') {
    const interval = Number(headers['x-hubspot-ratelimit-interval-milliseconds']);
    if (Number.isFinite(interval) && interval > 0) return interval;
  }
  if (headers['x-hubspot-ratelimit-secondly-remaining'] === '0') return 1000;
  return undefined;
}

/** `Retry-After` as ms from `now`: delay-seconds (fractional allowed) or an HTTP-date. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const seconds = parseSeconds(value);
  if (seconds !== undefined) return seconds;
  const trimmed = value.trim();
  // An HTTP-date always names a weekday or month; refuse bare numbers-with-junk that Date.parse accepts.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Non-negative decimal milliseconds, rounded up. */
function parseMilliseconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Math.ceil(Number(value));
}

/** Non-negative decimal seconds → ms (rounded up, so we never come back a fraction too early). */
function parseSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return undefined;
  return Math.ceil(Number(trimmed) * 1000);
}

/**
 * A reset instant as epoch ms. GitHub sends epoch seconds; some APIs send seconds from now. Anything
 * below 10^9 (2001) cannot be an epoch time, so it is read as a delta.
 */
export function parseResetTime(value: string | undefined, now: number): number | undefined {
  const ms = parseSeconds(value);
  if (ms === undefined) return undefined;
  return ms >= 1e12 ? ms : now + ms;
}
