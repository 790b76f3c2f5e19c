import {
  type BreakerSnapshot,
  type BreakerStateStore,
  compareAndSetLoop,
  type Versioned,
} from '../../resilience/index.js';
import type { RedisStoreOptions } from './redis-rate-limit-store.js';
import { BREAKER_CAS, type RedisScriptClient, runScript } from './redis-scripts.js';

export interface RedisBreakerStoreOptions extends RedisStoreOptions {
  /** A breaker record not written for this long is dropped (it reads as closed), in ms. Defaults to 7 days. */
  ttlMs?: number;
}

/** Circuit-breaker state in Redis: a JSON value per breaker, replaced by compare-and-set in a Lua script. */
export class RedisBreakerStateStore implements BreakerStateStore {
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: RedisScriptClient & { get(key: string): Promise<string | null> },
    options: RedisBreakerStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'patchbay:';
    this.ttlMs = options.ttlMs ?? 7 * 24 * 60 * 60 * 1000;
  }

  update(
    key: string,
    mutate: (current: BreakerSnapshot | undefined) => BreakerSnapshot,
  ): Promise<BreakerSnapshot> {
    const redisKey = `${this.prefix}breaker:{${key}}`;
    const read = async (): Promise<Versioned<BreakerSnapshot, string> | undefined> => {
      const raw = await this.redis.get(redisKey);
      return raw === null ? undefined : { value: JSON.parse(raw) as BreakerSnapshot, version: raw };
    };
    const write = async (expected: Versioned<BreakerSnapshot, string> | undefined, next: BreakerSnapshot) =>
      (await runScript(
        this.redis,
        BREAKER_CAS,
        [redisKey],
        [expected?.version ?? '', JSON.stringify(next), this.ttlMs],
      )) === 1;
    return compareAndSetLoop(read, write, mutate);
  }
}
