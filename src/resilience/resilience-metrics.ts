import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';

/**
 * Prometheus metrics of the policies, registered on a registry the caller passes (never the global
 * one: a library must not change what an application exports). One set per registry, shared by every
 * breaker and limiter that reports into it.
 */
export interface ResilienceMetrics {
  /** 0 closed, 1 half-open, 2 open — this process's view. */
  breakerState: Gauge<'breaker'>;
  breakerTransitions: Counter<'breaker' | 'from' | 'to'>;
  breakerRejections: Counter<'breaker'>;
  rateLimitWaitSeconds: Histogram<'limiter'>;
  rateLimitRejections: Counter<'limiter' | 'reason'>;
}

const cache = new WeakMap<Registry, ResilienceMetrics>();

export function resilienceMetrics(registry: Registry): ResilienceMetrics {
  const cached = cache.get(registry);
  if (cached) return cached;
  const metrics: ResilienceMetrics = {
    breakerState: reuse(
      registry,
      'patchbay_circuit_breaker_state',
      () =>
        new Gauge({
          name: 'patchbay_circuit_breaker_state',
          help: 'Circuit breaker state as this process sees it: 0 closed, 1 half-open, 2 open',
          labelNames: ['breaker'],
          registers: [registry],
        }),
    ),
    breakerTransitions: reuse(
      registry,
      'patchbay_circuit_breaker_transitions_total',
      () =>
        new Counter({
          name: 'patchbay_circuit_breaker_transitions_total',
          help: 'Circuit breaker state changes',
          labelNames: ['breaker', 'from', 'to'],
          registers: [registry],
        }),
    ),
    breakerRejections: reuse(
      registry,
      'patchbay_circuit_breaker_rejections_total',
      () =>
        new Counter({
          name: 'patchbay_circuit_breaker_rejections_total',
          help: 'Calls refused because the circuit was open',
          labelNames: ['breaker'],
          registers: [registry],
        }),
    ),
    rateLimitWaitSeconds: reuse(
      registry,
      'patchbay_rate_limit_wait_seconds',
      () =>
        new Histogram({
          name: 'patchbay_rate_limit_wait_seconds',
          help: 'Time calls waited for a rate-limit slot',
          labelNames: ['limiter'],
          buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
          registers: [registry],
        }),
    ),
    rateLimitRejections: reuse(
      registry,
      'patchbay_rate_limit_rejections_total',
      () =>
        new Counter({
          name: 'patchbay_rate_limit_rejections_total',
          help: 'Calls that could not get a rate-limit slot before their deadline',
          labelNames: ['limiter', 'reason'],
          registers: [registry],
        }),
    ),
  };
  cache.set(registry, metrics);
  return metrics;
}

/** Takes an existing metric of that name (another copy of the package registered it) or makes one. */
export function reuse<M extends Metric>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}
