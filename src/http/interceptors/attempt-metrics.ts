import { PatchbayError } from '../../core/errors.js';
import type { HttpMetrics } from '../http-metrics.js';
import type { Interceptor } from '../http-types.js';

/** Counts each attempt by its answer, just above the transport, so retries show up one by one. */
export function attemptMetricsInterceptor(metrics: HttpMetrics, upstream: string): Interceptor {
  return (next) => async (call) => {
    try {
      const response = await next(call);
      metrics.attempts.inc({ upstream, status: String(response.status) });
      return response;
    } catch (error) {
      const status = error instanceof PatchbayError ? String(error.status ?? error.code) : 'UNKNOWN';
      metrics.attempts.inc({ upstream, status });
      throw error;
    }
  };
}
