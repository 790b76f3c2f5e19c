import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import { ConcurrencyLimiter } from '../resilience/concurrency-limiter.js';
import { invalidOption } from '../resilience/options.js';
import type { RateLimiter } from '../resilience/rate-limiter.js';
import { RollingWindowLimiter } from '../resilience/rolling-window-limiter.js';
import { TokenBucketLimiter } from '../resilience/token-bucket-limiter.js';
import type { HttpClientOptions, RateLimitSpec } from './client-options.js';

/**
 * The client's `rateLimit` option as limiters. Each is named after the client (plus its kind when
 * there are several) unless it says otherwise; that name is its key in a shared store.
 */
export function buildRateLimiters(
  option: HttpClientOptions['rateLimit'],
  context: { name: string; clock: Clock; registry: Registry | undefined },
): RateLimiter[] {
  if (option === undefined || option === false) return [];
  const specs: readonly RateLimitSpec[] = Array.isArray(option) ? option : [option as RateLimitSpec];
  return specs.map((spec, index) => build(spec, index, specs.length, context));
}

function build(
  spec: RateLimitSpec,
  index: number,
  count: number,
  { name, clock, registry }: { name: string; clock: Clock; registry: Registry | undefined },
): RateLimiter {
  const where = count > 1 ? `rateLimit[${index}]` : 'rateLimit';
  if (typeof spec !== 'object' || spec === null) throw invalidOption(where, 'an object', spec);
  if (isLimiter(spec)) return spec;
  const { kind = 'rolling-window', ...rest } = spec as RateLimitSpec & { kind?: string };
  const common = {
    name: count > 1 ? `${name}:${kind}:${index}` : name,
    clock,
    ...(registry && { registry }),
  };
  switch (kind) {
    case 'rolling-window':
      return new RollingWindowLimiter({ ...common, ...(rest as object) } as never);
    case 'token-bucket':
      return new TokenBucketLimiter({ ...common, ...(rest as object) } as never);
    case 'concurrency':
      return new ConcurrencyLimiter({ ...common, ...(rest as object) } as never);
    default:
      throw invalidOption(`${where}.kind`, '"rolling-window", "token-bucket" or "concurrency"', kind);
  }
}

function isLimiter(value: object): value is RateLimiter {
  return (
    typeof (value as RateLimiter).acquire === 'function' &&
    typeof (value as RateLimiter).observe === 'function'
  );
}
