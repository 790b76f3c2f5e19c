import { createHash } from 'node:crypto';

/**
 * The small part of a Redis client the adapters use, so they do not depend on ioredis' types; an
 * ioredis `Redis` (or `Cluster`: every script touches keys of one hash slot) fits it.
 */
export interface RedisScriptClient {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

export interface RedisScript {
  source: string;
  sha: string;
}

export function script(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** EVALSHA, loading the script with EVAL the first time a server has not seen it. */
export async function runScript(
  client: RedisScriptClient,
  s: RedisScript,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!String((error as Error)?.message ?? '').startsWith('NOSCRIPT')) throw error;
    return client.eval(s.source, keys.length, ...keys, ...args);
  }
}

// Numbers that may carry fractions travel as strings: Redis truncates Lua numbers to integers.
const BLOCK_CHECK = `
local blocked = tonumber(redis.call('HGET', KEYS[2], 'blocked') or '0')
if blocked > now then return {0, tostring(blocked - now)} end`;

/** KEYS: log (zset), state (hash). ARGV: now, windowMs, limit, cost, member prefix. */
export const WINDOW_ACQUIRE = script(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
${BLOCK_CHECK}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used + cost <= limit then
  for i = 1, cost do redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i) end
  redis.call('PEXPIRE', KEYS[1], math.ceil(window) + 1000)
  return {1, tostring(limit - used - cost)}
end
local k = used + cost - limit - 1
local leaving = redis.call('ZRANGE', KEYS[1], k, k, 'WITHSCORES')
return {0, tostring(tonumber(leaving[2]) + window - now)}
`);

/** KEYS: log. ARGV: now, windowMs, limit, remaining, member prefix. */
export const WINDOW_REDUCE = script(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local extra = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
for i = 1, extra do redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i) end
if extra > 0 then redis.call('PEXPIRE', KEYS[1], math.ceil(window) + 1000) end
return extra
`);

/** KEYS: unused, state. ARGV: now, intervalMs, burst, cost. */
export const GCRA_ACQUIRE = script(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
${BLOCK_CHECK}
local tat = tonumber(redis.call('HGET', KEYS[2], 'tat') or '0')
if tat < now then tat = now end
local tolerance = interval * burst
local newTat = tat + interval * cost
local allowAt = newTat - tolerance
if now < allowAt then return {0, tostring(allowAt - now)} end
redis.call('HSET', KEYS[2], 'tat', string.format('%.3f', newTat))
redis.call('PEXPIRE', KEYS[2], math.ceil(math.max(newTat, blocked) - now) + 1000)
return {1, tostring(math.floor((now + tolerance - newTat) / interval))}
`);

/** KEYS: state. ARGV: now, intervalMs, burst, remaining. */
export const GCRA_REDUCE = script(`
local now = tonumber(ARGV[1])
local target = now + tonumber(ARGV[2]) * (tonumber(ARGV[3]) - tonumber(ARGV[4]))
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
if tat < target then
  redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', target))
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < target - now then redis.call('PEXPIRE', KEYS[1], math.ceil(target - now) + 1000) end
end
return 1
`);

/** KEYS: leases (zset token → expiry), state. ARGV: now, limit, leaseMs, token. */
export const LEASE_ACQUIRE = script(`
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
${BLOCK_CHECK}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held < limit then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(lease) + 1000)
  return {1, tostring(limit - held - 1)}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tostring(tonumber(first[2]) - now)}
`);

/** KEYS: leases. ARGV: token. */
export const LEASE_RELEASE = script(`return redis.call('ZREM', KEYS[1], ARGV[1])`);

/** KEYS: state. ARGV: until, now. */
export const BLOCK = script(`
local untilMs = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked') or '0')
if untilMs > blocked then
  redis.call('HSET', KEYS[1], 'blocked', string.format('%.3f', untilMs))
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < untilMs - now then redis.call('PEXPIRE', KEYS[1], math.ceil(untilMs - now) + 1000) end
end
return 1
`);

/** KEYS: breaker. ARGV: expected value ('' when absent), new value, ttl ms. Compare-and-set. */
export const BREAKER_CAS = script(`
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`);
