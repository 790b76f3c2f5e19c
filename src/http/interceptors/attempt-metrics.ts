import type { Clock } from '../../core/clock.js';
import { PatchbayError } from '../../core/errors.js';
import type { AttemptAnswer } from '../client-options.js';
import type { HttpMetrics } from '../http-metrics.js';
import type { Interceptor } from '../http-types.js';

/**
 * Counts each attempt by its answer, and tells `onAttempt` (with its duration and the answer's headers),
 * just above the transport, so retries show up one by one.
 */
export function attemptMetricsInterceptor(
  metrics: HttpMetrics | undefined,
  upstream: string,
  onAttempt: ((answer: AttemptAnswer) => void) | undefined,
  clock: Clock,
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
    const started = clock.now();
    try {
      const response = await next(call);
      observe({
        status: response.status,
        code: undefined,
        durationMs: clock.now() - started,
        headers: response.headers,
      });
      return response;
    } catch (error) {
      const status = error instanceof PatchbayError ? error.status : undefined;
      const code = error instanceof PatchbayError ? error.code : 'UNKNOWN';
      observe({
        status,
        code: status === undefined ? code : undefined,
        durationMs: clock.now() - started,
        headers: error instanceof PatchbayError ? error.headers : undefined,
      });
      throw error;
    }
  };
}
