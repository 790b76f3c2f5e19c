import { Redis } from 'ioredis';
import {
  type BreakerStateStore,
  MemoryBreakerStateStore,
  MemoryRateLimitStore,
  type RateLimitStore,
} from '../../resilience/index.js';
import type { Database } from '../database.js';
import { RedisBreakerStateStore } from './redis-breaker-state-store.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';
import { SqlBreakerStateStore } from './sql-breaker-state-store.js';
import { SqlRateLimitStore } from './sql-rate-limit-store.js';

export { RedisBreakerStateStore, type RedisBreakerStoreOptions } from './redis-breaker-state-store.js';
export { RedisRateLimitStore, type RedisStoreOptions } from './redis-rate-limit-store.js';
export type { RedisScriptClient } from './redis-scripts.js';
export { SqlBreakerStateStore } from './sql-breaker-state-store.js';
export { SqlRateLimitStore } from './sql-rate-limit-store.js';

/** The shared state of rate limiters and breakers, as the engine hands it to HTTP clients and delivery workers. */
export interface LimitStores {
  readonly kind: 'redis' | 'sql' | 'memory';
  readonly rateLimits: RateLimitStore;
  readonly breakers: BreakerStateStore;
  /** Closes what these stores opened (the Redis connection); never the caller's database. */
  close(): Promise<void>;
}

export interface OpenLimitStoresOptions {
  /** `PATCHBAY_REDIS_URL`: when set, state lives in Redis. */
  redisUrl?: string;
  /** Key prefix in Redis. Defaults to "patchbay:". */
  redisPrefix?: string;
  /** Otherwise state lives in the store's database (migration 0002 creates its tables). */
  database?: Database;
}

/**
 * Picks where limiter and breaker state lives: Redis when a URL is given, else the SQL database, else
 * process memory (a single process needs nothing shared).
 */
export async function openLimitStores(options: OpenLimitStoresOptions): Promise<LimitStores> {
  if (options.redisUrl) {
    const redis = new Redis(options.redisUrl, {
      // Fail a limiter call fast instead of queueing it forever while Redis is away.
      maxRetriesPerRequest: 2,
      connectTimeout: 5000,
      lazyConnect: true,
    });
    redis.on('error', () => {
      // Reported per operation (STORE_UNAVAILABLE); an unhandled 'error' event would kill the process.
    });
    await redis.connect();
    const prefix = options.redisPrefix === undefined ? {} : { prefix: options.redisPrefix };
    return {
      kind: 'redis',
      rateLimits: new RedisRateLimitStore(redis, prefix),
      breakers: new RedisBreakerStateStore(redis, prefix),
      async close() {
        await redis.quit().catch(() => redis.disconnect());
      },
    };
  }
  if (options.database) {
    return {
      kind: 'sql',
      rateLimits: new SqlRateLimitStore(options.database),
      breakers: new SqlBreakerStateStore(options.database),
      async close() {},
    };
  }
  return {
    kind: 'memory',
    rateLimits: new MemoryRateLimitStore(),
    breakers: new MemoryBreakerStateStore(),
    async close() {},
  };
}
