/**
 * The HTTP client side by side with its peers, in one run, medians of several runs:
 *   1. per-call overhead of the policy pipeline (retry + breaker + timeout around a no-op) vs cockatiel 3;
 *   2. client throughput vs a bare undici Pool, against a local keep-alive server;
 *   3. a rolling-window limited run vs a naive retry-on-429 client, against the chaos upstream.
 *
 *   npx tsx bench/http.ts
 *   CALLS=200000 REQUESTS=20000 RUNS=5 npx tsx bench/http.ts
 *   ONLY=throughput RUNS=7 npx tsx bench/http.ts  # one section (overhead, throughput or window)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { Pool } from 'undici';
import { createHttpClient } from '../src/http/index.js';
import { CircuitBreaker, pipeline, RetryPolicy, TimeoutPolicy } from '../src/resilience/index.js';
import { startChaosUpstream } from '../src/testing/index.js';
import { median, printTable } from './util.js';

const CALLS = Number(process.env.CALLS ?? 200_000);
const REQUESTS = Number(process.env.REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const RUNS = Number(process.env.RUNS ?? 5);

async function timeIt(fn: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

// 1. Policy overhead ---------------------------------------------------------------------------------
async function overhead(): Promise<string[][]> {
  const noop = async () => 1;
  const patchbay = pipeline(
    new RetryPolicy({ maxAttempts: 3 }),
    new CircuitBreaker({ consecutiveFailures: 5 }),
    new TimeoutPolicy({ timeoutMs: 30_000 }),
  );
  const cockatiel = wrap(
    retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
    timeout(30_000, TimeoutStrategy.Cooperative),
  );
  const loop = (run: () => Promise<unknown>) => async () => {
    for (let i = 0; i < CALLS; i++) await run();
  };
  const direct: number[] = [];
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    direct.push(await timeIt(loop(noop)));
    ours.push(await timeIt(loop(() => patchbay.execute(noop))));
    theirs.push(await timeIt(loop(() => cockatiel.execute(noop))));
  }
  const perCall = (ms: number[]) => (median(ms) * 1000) / CALLS;
  const base = perCall(direct);
  const p = perCall(ours) - base;
  const c = perCall(theirs) - base;
  return [
    ['direct call', `${base.toFixed(2)} µs`, ''],
    ['cockatiel retry+breaker+timeout', `${c.toFixed(2)} µs`, '1.00×'],
    ['patchbay retry+breaker+timeout', `${p.toFixed(2)} µs`, `${(p / c).toFixed(2)}× (goal ≤ 1.0×)`],
  ];
}

// 2. Throughput ----------------------------------------------------------------------------------------
async function throughput(): Promise<string[][]> {
  const payload = JSON.stringify({ id: '512', properties: { email: 'ada@example.com' } });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(payload);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new Pool(origin, { connections: 32 });
  const client = createHttpClient({ baseUrl: origin, allowInsecureHttp: true, maxConnections: 32 });
  const drive = (one: () => Promise<unknown>) => async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < REQUESTS) await one();
      }),
    );
  };
  const bare = drive(async () => {
    const res = await pool.request({ path: '/contacts/512', method: 'GET' });
    JSON.parse(await res.body.text());
  });
  const ours = drive(() => client.request({ path: '/contacts/512' }));
  await bare();
  await ours(); // warm both
  const bareMs: number[] = [];
  const oursMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    bareMs.push(await timeIt(bare));
    oursMs.push(await timeIt(ours));
  }
  await pool.close();
  await client.close();
  server.close();
  const rate = (ms: number[]) => REQUESTS / (median(ms) / 1000);
  const b = rate(bareMs);
  const o = rate(oursMs);
  return [
    ['undici Pool (bare)', `${Math.round(b)} req/s`, '1.00×'],
    [
      'patchbay client (retry+breaker+timeout)',
      `${Math.round(o)} req/s`,
      `${(o / b).toFixed(2)}× (goal ≥ 0.8×)`,
    ],
  ];
}

// 3. Rolling window vs naive retry-on-429 ------------------------------------------------------------------
async function rollingWindow(): Promise<string[][]> {
  const LIMIT = 20;
  const WINDOW_MS = 1_000;
  const N = 100;
  const minimum = (Math.ceil(N / LIMIT) - 1) * WINDOW_MS;

  const upstream = await startChaosUpstream({ rateLimit: { limit: LIMIT, windowMs: WINDOW_MS } });
  const client = createHttpClient({
    baseUrl: upstream.url,
    allowInsecureHttp: true,
    rateLimit: { limit: LIMIT, windowMs: WINDOW_MS },
  });
  const oursMs = await timeIt(async () => {
    await Promise.all(Array.from({ length: N }, (_, i) => client.request({ path: `/r/${i}` })));
  });
  const ours429 = upstream.stats.limited;
  await client.close();

  // Naive: everything at once; a 429 waits 1 s (no Retry-After from a HubSpot-like upstream) and tries again.
  upstream.setRateLimit({ limit: LIMIT, windowMs: WINDOW_MS });
  upstream.clear();
  const pool = new Pool(upstream.url, { connections: 32 });
  const naiveMs = await timeIt(async () => {
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        for (;;) {
          const res = await pool.request({ path: `/r/${i}`, method: 'GET' });
          await res.body.dump();
          if (res.statusCode !== 429) return;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }),
    );
  });
  const naive429 = upstream.stats.limited;
  await pool.close();
  await upstream.close();
  return [
    [`theoretical minimum (${N} at ${LIMIT}/${WINDOW_MS} ms)`, `${minimum} ms`, '', ''],
    [
      'patchbay rolling window',
      `${Math.round(oursMs)} ms`,
      String(ours429),
      `${(oursMs / minimum).toFixed(2)}× min`,
    ],
    [
      'naive retry-on-429',
      `${Math.round(naiveMs)} ms`,
      String(naive429),
      `${(naiveMs / minimum).toFixed(2)}× min`,
    ],
  ];
}

const only = process.env.ONLY;
const runs = (section: string) => only === undefined || only === section;
console.log(`Node ${process.version}; ${RUNS} runs, medians`);
if (runs('overhead')) {
  console.log(`\n1. Policy overhead per call (${CALLS} calls around an async no-op, direct call subtracted)`);
  printTable(['pipeline', 'per call', 'ratio'], await overhead());
}
if (runs('throughput')) {
  console.log(`\n2. Throughput (${REQUESTS} GETs, concurrency ${CONCURRENCY}, 32 connections, local server)`);
  printTable(['client', 'throughput', 'ratio'], await throughput());
}
if (runs('window')) {
  console.log('\n3. Rolling-window limit vs naive retry-on-429 (one run each)');
  printTable(['client', 'total time', '429s', 'vs minimum'], await rollingWindow());
}
