import { context, propagation, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { Clock } from '../../core/clock.js';
import { errorMessage, PatchbayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { scrubSecrets } from '../../core/redact.js';
import type { HttpMetrics } from '../http-metrics.js';
import type { HttpCall, Interceptor, RawResponse } from '../http-types.js';
import { safeUrl } from '../response-errors.js';

export interface TelemetryOptions {
  upstream: string;
  logger: Logger;
  metrics: HttpMetrics | undefined;
  tracer: Tracer;
  clock: Clock;
}

/**
 * Wraps the whole call (every policy inside it): one OpenTelemetry client span, the latency histogram
 * and outcome counter, and one log line. Log lines are built here from a redacted view — the URL with
 * secret query values replaced, no request headers at all, messages scrubbed of every credential the
 * auth stage handed out — so a secret cannot reach the logger, whatever its own redaction does.
 */
export function telemetryInterceptor(options: TelemetryOptions): Interceptor {
  const { upstream, logger, metrics, tracer, clock } = options;
  return (next) => (call) => {
    const started = clock.now();
    const span = tracer.startSpan(`HTTP ${call.method}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': call.method,
        'server.address': call.url.hostname,
        'url.path': call.url.pathname,
        'patchbay.upstream': upstream,
      },
    });
    const traced = withTraceContext(call);
    // Nothing to record (no OpenTelemetry SDK, or this span sampled out; no registry) nor to log: the
    // call goes on without a continuation of ours, which spares it a promise and a microtask turn.
    if (metrics === undefined && !span.isRecording() && !logger.isLevelEnabled('warn')) return next(traced);
    let pending: Promise<RawResponse>;
    try {
      pending = next(traced);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (response) => {
        const outcome = response.partial ? 'partial' : 'success';
        const seconds = (clock.now() - started) / 1000;
        metrics?.duration.observe({ upstream, method: call.method, outcome }, seconds);
        metrics?.outcomes.inc({ upstream, outcome });
        span.setAttribute('http.response.status_code', response.status);
        span.setAttribute('patchbay.attempts', call.state.attempts);
        span.end();
        if (logger.isLevelEnabled('debug')) {
          logger.debug(
            {
              upstream,
              method: call.method,
              url: safeUrl(call.url, call.state),
              status: response.status,
              attempts: call.state.attempts,
              durationMs: Math.round(seconds * 1000),
            },
            'http call',
          );
        }
        return response;
      },
      (error: unknown) => {
        const code = error instanceof PatchbayError ? error.code : 'INTERNAL';
        const status = error instanceof PatchbayError ? error.status : undefined;
        const seconds = (clock.now() - started) / 1000;
        metrics?.duration.observe({ upstream, method: call.method, outcome: code }, seconds);
        metrics?.outcomes.inc({ upstream, outcome: code });
        const message = scrubSecrets(errorMessage(error), call.state.secrets);
        if (status !== undefined) span.setAttribute('http.response.status_code', status);
        span.setAttribute('error.type', code);
        span.setAttribute('patchbay.attempts', call.state.attempts);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        span.end();
        logger.warn(
          {
            upstream,
            method: call.method,
            url: safeUrl(call.url, call.state),
            code,
            ...(status !== undefined && { status }),
            attempts: call.state.attempts,
            durationMs: Math.round(seconds * 1000),
          },
          `http call failed: ${message}`,
        );
        throw error;
      },
    );
  };
}

/**
 * The call with W3C trace context for the upstream. Injecting is a no-op unless the application
 * registered a propagator, so the call's headers are copied only when it added some.
 */
function withTraceContext(call: HttpCall): HttpCall {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  for (const _ in carrier) return { ...call, headers: { ...call.headers, ...carrier } };
  return call;
}
