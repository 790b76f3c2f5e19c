import { parseResetTime } from './retry-after.js';

/**
 * What a provider says about the quota left, read from response headers. The adaptive limiters use
 * it: when the provider counts less left than we do (another client shares the quota), we slow down.
 */
export interface ProviderQuota {
  /** Requests left in the current window. */
  remaining: number;
  /** The window's size, when the provider says (HubSpot `…-Interval-Milliseconds`; `DAY_MS` for a daily count). */
  windowMs?: number;
  /** The window's limit, when the provider says. */
  limit?: number;
  /** When the quota refills, epoch ms (GitHub `x-ratelimit-reset`). */
  resetAt?: number;
}

/** A day, as `ProviderQuota.windowMs` says it (HubSpot's daily count; the day is a calendar day). */
export const DAY_MS = 86_400_000;

/**
 * Reads HubSpot (`X-HubSpot-RateLimit-*`: the rolling interval and the daily count, two quotas in one
 * answer), GitHub (`x-ratelimit-*`) and IETF draft (`ratelimit-*`) headers. Empty when there are none.
 */
export function parseQuotaHeaders(headers: Readonly<Record<string, string>>, now: number): ProviderQuota[] {
  const quotas: ProviderQuota[] = [];
  const hubspot = toCount(headers['x-hubspot-ratelimit-remaining']);
  if (hubspot !== undefined) {
    quotas.push({
      remaining: hubspot,
      ...optional('windowMs', toCount(headers['x-hubspot-ratelimit-interval-milliseconds'])),
      ...optional('limit', toCount(headers['x-hubspot-ratelimit-max'])),
    });
  }
  // https://developers.hubspot.com/docs/api/usage-details: left out of OAuth apps' answers.
  const hubspotDaily = toCount(headers['x-hubspot-ratelimit-daily-remaining']);
  if (hubspotDaily !== undefined) {
    quotas.push({
      remaining: hubspotDaily,
      windowMs: DAY_MS,
      ...optional('limit', toCount(headers['x-hubspot-ratelimit-daily'])),
    });
  }
  if (quotas.length > 0) return quotas;
  const github = toCount(headers['x-ratelimit-remaining']);
  if (github !== undefined) {
    return [
      {
        remaining: github,
        ...optional('limit', toCount(headers['x-ratelimit-limit'])),
        ...optional('resetAt', parseResetTime(headers['x-ratelimit-reset'], now)),
      },
    ];
  }
  const ietf = toCount(headers['ratelimit-remaining']);
  if (ietf !== undefined) {
    const reset = toCount(headers['ratelimit-reset']);
    return [
      {
        remaining: ietf,
        ...optional('limit', toCount(headers['ratelimit-limit'])),
        ...optional('resetAt', reset === undefined ? undefined : now + reset * 1000),
      },
    ];
  }
  return quotas;
}

function toCount(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
