import { randomUUID } from 'node:crypto';
import {
  type GcraRequest,
  type Grant,
  type LeaseRequest,
  type RateLimitStore,
  timeOf,
  type WindowRequest,
} from '../../resilience/index.js';
import {
  BLOCK,
  GCRA_ACQUIRE,
  GCRA_REDUCE,
  LEASE_ACQUIRE,
  LEASE_RELEASE,
  type RedisScriptClient,
  runScript,
  WINDOW_ACQUIRE,
  WINDOW_REDUCE,
} from './redis-scripts.js';

export interface RedisStoreOptions {
  /** Prefix of every key, so several installations can share one Redis. Defaults to "patchbay:". */
  prefix?: string;
}

/**
 * Rate-limit state in Redis: each operation is one Lua script, so it is atomic without locks and
 * costs one round trip. A limiter's keys share a hash slot (`{key}`), so it also works on a cluster.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisScriptClient,
    options: RedisStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'patchbay:';
  }

  private keys(key: string) {
    const base = `${this.prefix}rl:{${key}}`;
    return { log: `${base}:log`, state: `${base}:state`, leases: `${base}:leases` };
  }

  async acquireWindow(key: string, { limit, windowMs, now, cost }: WindowRequest): Promise<Grant> {
    const k = this.keys(key);
    const reply = await runScript(
      this.redis,
      WINDOW_ACQUIRE,
      [k.log, k.state],
      [timeOf(now), windowMs, limit, cost, randomUUID()],
    );
    return toGrant(reply);
  }

  async reduceWindow(
    key: string,
    { limit, windowMs, now, remaining }: Omit<WindowRequest, 'cost'> & { remaining: number },
  ): Promise<void> {
    await runScript(
      this.redis,
      WINDOW_REDUCE,
      [this.keys(key).log],
      [timeOf(now), windowMs, limit, remaining, randomUUID()],
    );
  }

  async acquireGcra(key: string, { intervalMs, burst, now, cost }: GcraRequest): Promise<Grant> {
    const k = this.keys(key);
    return toGrant(
      await runScript(this.redis, GCRA_ACQUIRE, [k.log, k.state], [timeOf(now), intervalMs, burst, cost]),
    );
  }

  async reduceGcra(
    key: string,
    { intervalMs, burst, now, remaining }: Omit<GcraRequest, 'cost'> & { remaining: number },
  ): Promise<void> {
    await runScript(
      this.redis,
      GCRA_REDUCE,
      [this.keys(key).state],
      [timeOf(now), intervalMs, burst, remaining],
    );
  }

  async acquireLease(key: string, { limit, leaseMs, now, token }: LeaseRequest): Promise<Grant> {
    const k = this.keys(key);
    return toGrant(
      await runScript(this.redis, LEASE_ACQUIRE, [k.leases, k.state], [timeOf(now), limit, leaseMs, token]),
    );
  }

  async releaseLease(key: string, token: string): Promise<void> {
    await runScript(this.redis, LEASE_RELEASE, [this.keys(key).leases], [token]);
  }

  async block(key: string, until: number): Promise<void> {
    await runScript(this.redis, BLOCK, [this.keys(key).state], [until, Date.now()]);
  }
}

function toGrant(reply: unknown): Grant {
  const [granted, value] = reply as [number, string];
  return granted === 1
    ? { granted: true, remaining: Number(value) }
    : { granted: false, retryAfterMs: Number(value) };
}
