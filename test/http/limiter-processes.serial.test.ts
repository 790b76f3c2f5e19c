import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startChaosUpstream } from '../../src/testing/index.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';
import { deleteRedisKeys, REDIS_URL } from '../resilience/store-backends.js';

/**
 * The acceptance run with its window scaled down: an upstream allowing 20 requests per rolling
 * 2 s (HubSpot's 100 per 10 s, five times smaller), 3 client processes sharing one limiter, 1,000
 * requests in all. The theoretical minimum is (ceil(1000 / 20) − 1) × 2 s = 98 s per store
 * (PATCHBAY_LIMITER_REQUESTS=200 gives a quick 18 s run). The stores run one after the other: run side
 * by side, 9 processes on a shared 2-core machine delay requests past the safety margin. PostgreSQL runs
 * only with PATCHBAY_TEST_LIMITER_POSTGRES=1, to keep CI short.
 */
const PROCESSES = 3;
const TOTAL = Number(process.env.PATCHBAY_LIMITER_REQUESTS ?? 1000);
const LIMIT = 20;
const WINDOW_MS = 2_000;
/**
 * Our window is this much longer than the upstream's: it absorbs the spread between a slot being taken
 * and the request arriving (a store commit, a busy event loop on a 2-core machine running 9 client
 * processes). It costs 49 windows × 60 ms = 3% here.
 */
const SAFETY_MARGIN_MS = 60;
/**
 * SQLite's grant travels further before its request leaves: the slot is stamped inside a local write
 * transaction whose commit, and the other processes' waits for the same write lock, run on the clients'
 * own event loops. On this 2-core VM 60 ms left about half the runs with a 429 or two (where earlier it had
 * passed every time, at the same commit); 80 ms costs 4% and stays within the 5% bound.
 */
const SQLITE_SAFETY_MARGIN_MS = 80;
const MINIMUM_MS = (Math.ceil(TOTAL / LIMIT) - 1) * WINDOW_MS;
const TIMEOUT_MS = MINIMUM_MS * 1.05 + 30_000;

interface ChildResult {
  first: number;
  last: number;
  codes: Record<string, number>;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function run(store: string, key: string, safetyMarginMs = SAFETY_MARGIN_MS) {
  const upstream = await startChaosUpstream();
  cleanups.push(() => upstream.close());
  const counts = Array.from(
    { length: PROCESSES },
    (_, i) => Math.floor(TOTAL / PROCESSES) + (i < TOTAL % PROCESSES ? 1 : 0),
  );
  const children = counts.map((count) =>
    spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/http-limiter-client.ts'], {
      env: {
        ...process.env,
        PATCHBAY_FIXTURE: JSON.stringify({
          upstream: upstream.url,
          store,
          count,
          limit: LIMIT,
          windowMs: WINDOW_MS,
          key,
          safetyMarginMs,
        }),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  cleanups.push(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });
  const outputs = children.map((child) => lines(child));
  // Start together once every process has opened its store, so start-up time is not measured.
  for (const output of outputs) expect(await output.next()).toBe('ready');
  upstream.clear();
  upstream.setRateLimit({ limit: LIMIT, windowMs: WINDOW_MS });
  for (const child of children) child.stdin!.write('go\n');
  const results: ChildResult[] = [];
  for (const output of outputs) results.push(JSON.parse(await output.next()) as ChildResult);
  const elapsed = Math.max(...results.map((r) => r.last)) - Math.min(...results.map((r) => r.first));
  return { elapsed, upstream, results };
}

function lines(child: ChildProcess): { next(): Promise<string> } {
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else queue.push(line);
  });
  return {
    next: () =>
      new Promise((resolve, reject) => {
        const line = queue.shift();
        if (line !== undefined) return resolve(line);
        waiting.push(resolve);
        child.once('exit', (code) => reject(new Error(`client process exited (${code}) before answering`)));
      }),
  };
}

function check(outcome: Awaited<ReturnType<typeof run>>, label: string) {
  const { elapsed, upstream, results } = outcome;
  console.log(
    `${label}: ${TOTAL} requests from ${PROCESSES} processes in ${elapsed} ms (minimum ${MINIMUM_MS} ms, ` +
      `+${(((elapsed - MINIMUM_MS) / MINIMUM_MS) * 100).toFixed(1)}%), 429s: ${upstream.stats.limited}`,
  );
  expect(results.map((r) => r.codes)).toEqual(results.map(() => ({})));
  expect(upstream.stats.limited).toBe(0);
  expect(upstream.stats.requests).toBe(TOTAL);
  expect(elapsed).toBeGreaterThanOrEqual(MINIMUM_MS);
  expect(elapsed).toBeLessThanOrEqual(MINIMUM_MS * 1.05);
}

describe('one rolling-window limit shared by 3 processes', () => {
  it('through SQLite (one file): zero 429s, within 5% of the minimum time', {
    timeout: TIMEOUT_MS,
  }, async () => {
    const { testDb, cleanup } = await migratedDatabase(allDialects[0]!.dialect);
    cleanups.push(cleanup);
    check(await run(testDb.url, 'sqlite-limit', SQLITE_SAFETY_MARGIN_MS), 'sqlite');
  });

  it.skipIf(!REDIS_URL)(
    'through Redis: zero 429s, within 5% of the minimum time',
    { timeout: TIMEOUT_MS },
    async () => {
      const key = `patchbay-test:${process.pid}:http-limit`;
      cleanups.push(async () => {
        const redis = new Redis(REDIS_URL!);
        await deleteRedisKeys(redis, key);
        redis.disconnect();
      });
      check(await run(REDIS_URL!, key), 'redis');
    },
  );

  it.skipIf(!allDialects[1]!.available || !process.env.PATCHBAY_TEST_LIMITER_POSTGRES)(
    'through PostgreSQL: zero 429s, within 5% of the minimum time',
    { timeout: TIMEOUT_MS },
    async () => {
      const { testDb, cleanup } = await migratedDatabase(allDialects[1]!.dialect);
      cleanups.push(cleanup);
      check(await run(testDb.url, 'postgres-limit'), 'postgres');
    },
  );
});
