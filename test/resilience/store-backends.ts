import { Redis } from 'ioredis';
import {
  type BreakerStateStore,
  MemoryBreakerStateStore,
  MemoryRateLimitStore,
  type RateLimitStore,
} from '../../src/resilience/index.js';
import {
  RedisBreakerStateStore,
  RedisRateLimitStore,
  SqlBreakerStateStore,
  SqlRateLimitStore,
} from '../../src/store/limits/index.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

export const REDIS_URL = process.env.PATCHBAY_TEST_REDIS_URL;

if (!REDIS_URL && !process.env.PATCHBAY_REDIS_SKIP_NOTICE_SHOWN) {
  process.env.PATCHBAY_REDIS_SKIP_NOTICE_SHOWN = '1';
  console.warn('skipped: Redis suites (PATCHBAY_TEST_REDIS_URL not set)');
}

/** Two handles on one shared state, as two processes would have. */
export interface StoreBackend {
  rateLimits: [RateLimitStore, RateLimitStore];
  breakers: [BreakerStateStore, BreakerStateStore];
  cleanup(): Promise<void>;
}

export interface BackendUnderTest {
  name: string;
  available: boolean;
  open(): Promise<StoreBackend>;
}

/** Keys of one test run, so parallel suites on one Redis never collide. */
export function uniquePrefix(): string {
  return `patchbay-test:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
}

export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

const memory: BackendUnderTest = {
  name: 'memory',
  available: true,
  async open() {
    const rate = new MemoryRateLimitStore();
    const breaker = new MemoryBreakerStateStore();
    return { rateLimits: [rate, rate], breakers: [breaker, breaker], cleanup: async () => {} };
  },
};

const sql: BackendUnderTest[] = allDialects.map(({ dialect, available }) => ({
  name: dialect.name,
  available,
  async open() {
    const { database, testDb, cleanup } = await migratedDatabase(dialect);
    // Two SQLite handles in one process would deadlock: a transaction awaiting on one handle holds the
    // write lock while the other blocks the event loop in busy_timeout. One process, one SQLite writer
    // (DESIGN.md); processes sharing a file are covered by the multi-process limiter test.
    const second = dialect.name === 'sqlite' ? database : await testDb.open();
    return {
      rateLimits: [new SqlRateLimitStore(database), new SqlRateLimitStore(second)],
      breakers: [new SqlBreakerStateStore(database), new SqlBreakerStateStore(second)],
      async cleanup() {
        if (second !== database) await second.close();
        await cleanup();
      },
    };
  },
}));

const redis: BackendUnderTest = {
  name: 'redis',
  available: REDIS_URL !== undefined,
  async open() {
    const prefix = uniquePrefix();
    const a = new Redis(REDIS_URL!);
    const b = new Redis(REDIS_URL!);
    return {
      rateLimits: [new RedisRateLimitStore(a, { prefix }), new RedisRateLimitStore(b, { prefix })],
      breakers: [new RedisBreakerStateStore(a, { prefix }), new RedisBreakerStateStore(b, { prefix })],
      async cleanup() {
        await deleteRedisKeys(a, prefix);
        a.disconnect();
        b.disconnect();
      },
    };
  },
};

export const backends: BackendUnderTest[] = [memory, ...sql, redis];
