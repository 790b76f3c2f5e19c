import type { Clock } from '../../core/clock.js';
import { PatchbayError } from '../../core/errors.js';
import { parseQuotaHeaders } from '../../resilience/quota-headers.js';
import type { RateLimiter, RateLimitPermit } from '../../resilience/rate-limiter.js';
import type { HttpCall, Interceptor } from '../http-types.js';
import type { ScopedLimiter } from '../rate-limit-options.js';

/**
 * Each attempt waits for a slot in every limiter that applies to it (first come, first served, bounded
 * by the call's deadline), then tells them what the upstream said about the quota: a 429 blocks the
 * shared limit until its Retry-After (or the wait the provider's error reader found in the body),
 * remaining-quota headers lower than our own count slow everyone down.
 */
export function rateLimitInterceptor(scoped: readonly ScopedLimiter[], clock: Clock): Interceptor {
  const everyCall = scoped.every((s) => s.applies === undefined);
  const all = scoped.map((s) => s.limiter);
  // Most clients have no scoped limit: they skip the per-call filtering.
  const limitersFor = everyCall
    ? () => all
    : (call: HttpCall) =>
        scoped.filter((s) => s.applies?.(call.method, call.url.pathname) ?? true).map((s) => s.limiter);
  const feed = async (
    limiters: readonly RateLimiter[],
    status: number | undefined,
    headers: Record<string, string>,
    retryAfterMs?: number,
  ) => {
    const quotas = parseQuotaHeaders(headers, clock.now());
    if (quotas.length === 0 && status !== 429) return;
    const feedback = {
      ...(status !== undefined && { status }),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
      quotas,
    };
    for (const limiter of limiters) await limiter.observe(feedback);
  };
  return (next) => async (call) => {
    const limiters = limitersFor(call);
    const permits: RateLimitPermit[] = [];
    try {
      for (const limiter of limiters) {
        permits.push(await limiter.acquire({ signal: call.signal, deadline: call.deadline }));
      }
      let response: Awaited<ReturnType<typeof next>>;
      try {
        response = await next(call);
      } catch (error) {
        if (error instanceof PatchbayError && error.headers && error.fromUpstream) {
          await feed(limiters, error.status, error.headers, error.retryAfterMs);
        }
        throw error;
      }
      await feed(limiters, response.status, response.headers);
      return response;
    } finally {
      for (const permit of permits) permit.release();
    }
  };
}
