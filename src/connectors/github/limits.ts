import type { ProviderRateLimit } from '../provider.js';

/**
 * GitHub's published limits (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api):
 * - primary: 5,000 requests an hour with a token (15,000 on Enterprise Cloud, 1,000 for `GITHUB_TOKEN`),
 *   counted per user; a rolling hour here never exceeds GitHub's fixed hour, and the `x-ratelimit-*`
 *   headers of every answer tell the limiter what GitHub counts (other tools share the quota);
 * - secondary: at most 100 requests in flight, and content creation — no more than 80 a minute and
 *   500 an hour (the POSTs that create issues, pull requests, comments).
 * The points-per-minute budget (900 per endpoint) cannot be reached under the hourly count.
 */
export const DEFAULT_HOURLY_LIMIT = 5000;
export const CONTENT_PER_MINUTE = 80;
export const CONTENT_PER_HOUR = 500;
export const MAX_CONCURRENT = 100;

export function githubRateLimits(settings: { hourlyLimit: number }): ProviderRateLimit[] {
  return [
    { key: 'hourly', limit: settings.hourlyLimit, windowMs: 3_600_000 },
    { key: 'content-minute', limit: CONTENT_PER_MINUTE, windowMs: 60_000, only: { method: 'POST' } },
    { key: 'content-hour', limit: CONTENT_PER_HOUR, windowMs: 3_600_000, only: { method: 'POST' } },
    { key: 'concurrent', kind: 'concurrency', limit: MAX_CONCURRENT },
  ];
}
