import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import { ConcurrencyLimiter } from '../resilience/concurrency-limiter.js';
import { FixedWindowLimiter } from '../resilience/fixed-window-limiter.js';
import { invalidOption } from '../resilience/options.js';
import type { RateLimiter } from '../resilience/rate-limiter.js';
import { RollingWindowLimiter } from '../resilience/rolling-window-limiter.js';
import { TokenBucketLimiter } from '../resilience/token-bucket-limiter.js';
import type { HttpClientOptions, RateLimitSpec } from './client-options.js';

/** A limiter and the calls it applies to (all when `applies` is absent). */
export interface ScopedLimiter {
  readonly limiter: RateLimiter;
  readonly applies?: (method: string, path: string) => boolean;
}

/**
 * The client's `rateLimit` option as limiters. Each is named after the client (plus its kind when
 * there are several) unless it says otherwise; that name is its key in a shared store.
 */
export function buildRateLimiters(
  option: HttpClientOptions['rateLimit'],
  context: { name: string; clock: Clock; registry: Registry | undefined },
): ScopedLimiter[] {
  if (option === undefined || option === false) return [];
  const specs: readonly RateLimitSpec[] = Array.isArray(option) ? option : [option as RateLimitSpec];
  return specs.map((spec, index) => build(spec, index, specs.length, context));
}

function build(
  spec: RateLimitSpec,
  index: number,
  count: number,
  { name, clock, registry }: { name: string; clock: Clock; registry: Registry | undefined },
): ScopedLimiter {
  const where = count > 1 ? `rateLimit[${index}]` : 'rateLimit';
  if (typeof spec !== 'object' || spec === null) throw invalidOption(where, 'an object', spec);
  if (isLimiter(spec)) return { limiter: spec };
  const {
    kind = 'rolling-window',
    only,
    ...rest
  } = spec as RateLimitSpec & { kind?: string; only?: unknown };
  const common = {
    name: count > 1 ? `${name}:${kind}:${index}` : name,
    clock,
    ...(registry && { registry }),
  };
  const options = { ...common, ...(rest as object) } as never;
  const limiter = (() => {
    switch (kind) {
      case 'rolling-window':
        return new RollingWindowLimiter(options);
      case 'fixed-window':
        return new FixedWindowLimiter(options);
      case 'token-bucket':
        return new TokenBucketLimiter(options);
      case 'concurrency':
        return new ConcurrencyLimiter(options);
      default:
        throw invalidOption(
          `${where}.kind`,
          '"rolling-window", "fixed-window", "token-bucket" or "concurrency"',
          kind,
        );
    }
  })();
  const applies = only === undefined ? undefined : matcher(`${where}.only`, only);
  return applies ? { limiter, applies } : { limiter };
}

function matcher(where: string, only: unknown): (method: string, path: string) => boolean {
  if (typeof only !== 'object' || only === null)
    throw invalidOption(where, 'an object { method?, path? }', only);
  const { method, path, ...extra } = only as { method?: unknown; path?: unknown };
  const unknown = Object.keys(extra)[0];
  if (unknown !== undefined)
    throw invalidOption(`${where}.${unknown}`, 'absent (only method and path exist)', unknown);
  if (method !== undefined && (typeof method !== 'string' || method === ''))
    throw invalidOption(`${where}.method`, 'an HTTP method', method);
  if (path !== undefined && !(path instanceof RegExp)) throw invalidOption(`${where}.path`, 'a RegExp', path);
  const upper = method?.toUpperCase();
  return (m, p) => (upper === undefined || m === upper) && (path === undefined || path.test(p));
}

function isLimiter(value: object): value is RateLimiter {
  return (
    typeof (value as RateLimiter).acquire === 'function' &&
    typeof (value as RateLimiter).observe === 'function'
  );
}
