import { parseResetTime } from './retry-after.js';

/**
 * What a provider says about the quota left, read from response headers. The adaptive limiters use
 * it: when the provider counts less left than we do (another client shares the quota), we slow down.
 */
export interface ProviderQuota {
  /** Requests left in the current window. */
  remaining: number;
  /** The window's size, when the provider says (HubSpot `…-Interval-Milliseconds`). */
  windowMs?: number;
  /** The window's limit, when the provider says. */
  limit?: number;
  /** When the quota refills, epoch ms (GitHub `x-ratelimit-reset`). */
  resetAt?: number;
}

/** Reads HubSpot (`X-HubSpot-RateLimit-*`), GitHub (`x-ratelimit-*`) and IETF draft (`ratelimit-*`) headers. */
export function parseQuotaHeaders(
  headers: Readonly<Record<string, string>>,
  now: number,
): ProviderQuota | undefined {
  const hubspot = toCount(headers['x-hubspot-ratelimit-remaining']);
  if (hubspot !== undefined) {
    return {
      remaining: hubspot,
      ...optional('windowMs', toCount(headers['x-hubspot-ratelimit-interval-milliseconds'])),
      ...optional('limit', toCount(headers['x-hubspot-ratelimit-max'])),
    };
  }
  const github = toCount(headers['x-ratelimit-remaining']);
  if (github !== undefined) {
    return {
      remaining: github,
      ...optional('limit', toCount(headers['x-ratelimit-limit'])),
      ...optional('resetAt', parseResetTime(headers['x-ratelimit-reset'], now)),
    };
  }
  const ietf = toCount(headers['ratelimit-remaining']);
  if (ietf !== undefined) {
    const reset = toCount(headers['ratelimit-reset']);
    return {
      remaining: ietf,
      ...optional('limit', toCount(headers['ratelimit-limit'])),
      ...optional('resetAt', reset === undefined ? undefined : now + reset * 1000),
    };
  }
  return undefined;
}

function toCount(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
