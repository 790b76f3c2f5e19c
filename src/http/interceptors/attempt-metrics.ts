import { PatchbayError } from '../../core/errors.js';
import type { AttemptAnswer } from '../client-options.js';
import type { HttpMetrics } from '../http-metrics.js';
import type { Interceptor } from '../http-types.js';

/**
 * Counts each attempt by its answer, and tells `onAttempt`, just above the transport, so retries show up
 * one by one.
 */
export function attemptMetricsInterceptor(
  metrics: HttpMetrics | undefined,
  upstream: string,
  onAttempt?: (answer: AttemptAnswer) => void,
): Interceptor {
  const observe = (answer: AttemptAnswer) => {
    metrics?.attempts.inc({ upstream, status: String(answer.status ?? answer.code) });
    try {
      onAttempt?.(answer);
    } catch {
      // An observer's bug must not change the call's outcome.
    }
  };
  return (next) => async (call) => {
    try {
      const response = await next(call);
      observe({ status: response.status, code: undefined });
      return response;
    } catch (error) {
      const status = error instanceof PatchbayError ? error.status : undefined;
      const code = error instanceof PatchbayError ? error.code : 'UNKNOWN';
      observe({ status, code: status === undefined ? code : undefined });
      throw error;
    }
  };
}
