import type { Clock } from '../../core/clock.js';
import { PatchbayError } from '../../core/errors.js';
import { parseQuotaHeaders } from '../../resilience/quota-headers.js';
import type { RateLimiter, RateLimitPermit } from '../../resilience/rate-limiter.js';
import type { Interceptor } from '../http-types.js';

/**
 * Each attempt waits for a slot in every limiter (first come, first served, bounded by the call's
 * deadline), then tells them what the upstream said about the quota: a 429 blocks the shared limit
 * until its Retry-After, remaining-quota headers lower than our own count slow everyone down.
 */
export function rateLimitInterceptor(limiters: readonly RateLimiter[], clock: Clock): Interceptor {
  const feed = async (status: number | undefined, headers: Record<string, string>, retryAfterMs?: number) => {
    const quota = parseQuotaHeaders(headers, clock.now());
    if (quota === undefined && status !== 429) return;
    const feedback = {
      ...(status !== undefined && { status }),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
      ...(quota !== undefined && { quota }),
    };
    for (const limiter of limiters) await limiter.observe(feedback);
  };
  return (next) => async (call) => {
    const permits: RateLimitPermit[] = [];
    try {
      for (const limiter of limiters) {
        permits.push(await limiter.acquire({ signal: call.signal, deadline: call.deadline }));
      }
      let response: Awaited<ReturnType<typeof next>>;
      try {
        response = await next(call);
      } catch (error) {
        if (error instanceof PatchbayError && error.headers && error.data?.source === 'upstream') {
          await feed(error.status, error.headers, error.retryAfterMs);
        }
        throw error;
      }
      await feed(response.status, response.headers);
      return response;
    } finally {
      for (const permit of permits) permit.release();
    }
  };
}
