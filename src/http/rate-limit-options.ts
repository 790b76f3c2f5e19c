import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import { ConcurrencyLimiter } from '../resilience/concurrency-limiter.js';
import { FixedWindowLimiter } from '../resilience/fixed-window-limiter.js';
import { invalidOption } from '../resilience/options.js';
import type { RateLimiter } from '../resilience/rate-limiter.js';
import { RollingWindowLimiter } from '../resilience/rolling-window-limiter.js';
import { TokenBucketLimiter } from '../resilience/token-bucket-limiter.js';
import type { HttpClientOptions, Partition, PartitionCall, RateLimitSpec } from './client-options.js';

/** A limit as the interceptor uses it: the limiter a call waits in, and the slots it takes. */
export interface ScopedLimiter {
  /** Set when the limit is one limiter counting every call once: the interceptor's fast path. */
  readonly everyCall?: RateLimiter;
  /** The limiter and cost for this call; undefined when the limit does not count it. */
  forCall(call: PartitionCall): { limiter: RateLimiter; cost: number } | undefined;
}

/** Partitions kept per limit; the least recently used one is dropped past this (its quota lives in the store). */
const MAX_PARTITIONS = 10_000;

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
  if (isLimiter(spec)) return { everyCall: spec, forCall: () => ({ limiter: spec, cost: 1 }) };
  const {
    kind = 'rolling-window',
    only,
    partition,
    ...rest
  } = spec as RateLimitSpec & { kind?: string; only?: unknown; partition?: unknown };
  const limiterName = (rest as { name?: string }).name ?? (count > 1 ? `${name}:${kind}:${index}` : name);
  const make = (suffix: string) =>
    construct(where, kind, <never>{
      clock,
      ...(registry && { registry }),
      ...(rest as object),
      name: `${limiterName}${suffix}`,
    });
  const applies = only === undefined ? undefined : matcher(`${where}.only`, only);
  if (partition !== undefined) {
    if (typeof partition !== 'function') throw invalidOption(`${where}.partition`, 'a function', partition);
    return partitioned(make, partition as Partition, applies);
  }
  const limiter = make('');
  if (!applies) return { everyCall: limiter, forCall: () => ({ limiter, cost: 1 }) };
  return { forCall: (call) => (applies(call.method, call.path) ? { limiter, cost: 1 } : undefined) };
}

/** One limiter per partition key, made on first use and named `<name>:<key>` (lower case). */
function partitioned(
  make: (suffix: string) => RateLimiter,
  partition: Partition,
  applies: ((method: string, path: string) => boolean) | undefined,
): ScopedLimiter {
  const limiters = new Map<string, RateLimiter>();
  return {
    forCall(call) {
      if (applies && !applies(call.method, call.path)) return undefined;
      const found = partition(call);
      if (found === undefined) return undefined;
      const key = (typeof found === 'string' ? found : found.key).toLowerCase();
      const cost = typeof found === 'string' ? 1 : (found.cost ?? 1);
      let limiter = limiters.get(key);
      if (limiter) limiters.delete(key);
      else limiter = make(`:${key}`);
      limiters.set(key, limiter);
      if (limiters.size > MAX_PARTITIONS) limiters.delete(limiters.keys().next().value!);
      return { limiter, cost };
    },
  };
}

function construct(where: string, kind: string, options: never): RateLimiter {
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
}

function matcher(where: string, only: unknown): (method: string, path: string) => boolean {
  if (typeof only !== 'object' || only === null)
    throw invalidOption(where, 'an object { method?, path? }', only);
  const { method, path, ...extra } = only as { method?: unknown; path?: unknown };
  const unknown = Object.keys(extra)[0];
  if (unknown !== undefined)
    throw invalidOption(`${where}.${unknown}`, 'absent (only method and path exist)', unknown);
  const methods = method === undefined ? undefined : Array.isArray(method) ? method : [method];
  if (
    methods !== undefined &&
    (methods.length === 0 || methods.some((m) => typeof m !== 'string' || m === ''))
  )
    throw invalidOption(`${where}.method`, 'an HTTP method or a non-empty list of them', method);
  if (path !== undefined && !(path instanceof RegExp)) throw invalidOption(`${where}.path`, 'a RegExp', path);
  const upper = methods && new Set(methods.map((m: string) => m.toUpperCase()));
  return (m, p) => (upper === undefined || upper.has(m)) && (path === undefined || path.test(p));
}

function isLimiter(value: object): value is RateLimiter {
  return (
    typeof (value as RateLimiter).acquire === 'function' &&
    typeof (value as RateLimiter).observe === 'function'
  );
}
