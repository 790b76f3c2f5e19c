import { Counter, Histogram, type Registry } from 'prom-client';
import { reuse } from '../resilience/resilience-metrics.js';

/** Prometheus metrics of the HTTP client, on the caller's registry (never the global one). */
export interface HttpMetrics {
  /** Whole calls, retries and waits included, by upstream, method and outcome. */
  duration: Histogram<'upstream' | 'method' | 'outcome'>;
  /** Every attempt that reached the transport, by upstream and status (or error code). */
  attempts: Counter<'upstream' | 'status'>;
  /** Calls by upstream and outcome: `success`, `partial`, or the error code. */
  outcomes: Counter<'upstream' | 'outcome'>;
}

const cache = new WeakMap<Registry, HttpMetrics>();

export function httpMetrics(registry: Registry): HttpMetrics {
  const cached = cache.get(registry);
  if (cached) return cached;
  const metrics: HttpMetrics = {
    duration: reuse(
      registry,
      'patchbay_http_client_duration_seconds',
      () =>
        new Histogram({
          name: 'patchbay_http_client_duration_seconds',
          help: 'Outbound HTTP calls, from the first attempt to the last answer',
          labelNames: ['upstream', 'method', 'outcome'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
          registers: [registry],
        }),
    ),
    attempts: reuse(
      registry,
      'patchbay_http_client_attempts_total',
      () =>
        new Counter({
          name: 'patchbay_http_client_attempts_total',
          help: 'Outbound HTTP attempts, by upstream and answer (status, or error code when none)',
          labelNames: ['upstream', 'status'],
          registers: [registry],
        }),
    ),
    outcomes: reuse(
      registry,
      'patchbay_http_client_calls_total',
      () =>
        new Counter({
          name: 'patchbay_http_client_calls_total',
          help: 'Outbound HTTP calls, by upstream and outcome (success, partial, or the error code)',
          labelNames: ['upstream', 'outcome'],
          registers: [registry],
        }),
    ),
  };
  cache.set(registry, metrics);
  return metrics;
}
