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
  const all = scoped.map((s) => s.everyCall);
  // Most clients have no scoped or partitioned limit: they skip the per-call lookup.
  const fixed = all.every((l) => l !== undefined)
    ? all.map((limiter) => ({ limiter: limiter!, cost: 1 }))
    : undefined;
  const limitersFor = fixed
    ? () => fixed
    : (call: HttpCall) => {
        const target = { method: call.method, path: call.url.pathname, body: call.body };
        return scoped.flatMap((s) => s.forCall(target) ?? []);
      };
  const feed = async (
    limiters: readonly RateLimiter[],
    permits: readonly RateLimitPermit[],
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
    for (const [i, limiter] of limiters.entries()) {
      const remainingAtGrant = permits[i]?.remaining;
      await limiter.observe(remainingAtGrant === undefined ? feedback : { ...feedback, remainingAtGrant });
    }
  };
  return (next) => async (call) => {
    const taken = limitersFor(call);
    const limiters = taken.map((t) => t.limiter);
    const permits: RateLimitPermit[] = [];
    try {
      for (const { limiter, cost } of taken) {
        permits.push(
          await limiter.acquire({
            signal: call.signal,
            deadline: call.deadline,
            ...(cost !== 1 && { cost }),
          }),
        );
      }
      let response: Awaited<ReturnType<typeof next>>;
      try {
        response = await next(call);
      } catch (error) {
        if (error instanceof PatchbayError && error.headers && error.fromUpstream) {
          await feed(limiters, permits, error.status, error.headers, error.retryAfterMs);
        }
        throw error;
      }
      await feed(limiters, permits, response.status, response.headers);
      return response;
    } finally {
      for (const permit of permits) permit.release();
    }
  };
}
