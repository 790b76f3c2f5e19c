/**
 * Delivery throughput: deliveries/s from Patchbay's delivery worker (Standard Webhooks signing, an attempt
 * record written durably for each, SQLite synchronous=FULL) to a local receiver, beside a bare undici Pool
 * posting the same requests (the same envelopes and headers, signed beforehand) to the same receiver — the
 * transport ceiling on this machine. A first round of each sender warms up and is not counted.
 *
 * A third sender delivers the same events to an in-process handler (`engine.on`): the same queue, load
 * and durable attempt records without HTTP or signing — what the store's bookkeeping costs, and a
 * steadier figure than the HTTP runs, whose receiver shares this machine's two cores.
 *
 *   npx tsx bench/delivery.ts            # DELIVERIES=20000 RUNS=3 CONNECTIONS=64
 *   ONLY_PATCHBAY=1 BENCH_PROFILE=delivery.cpuprofile RUNS=1 npx tsx bench/delivery.ts
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Counter } from 'prom-client';
import { Pool } from 'undici';
import { parseConfig } from '../src/core/config/index.js';
import { newId } from '../src/core/ids.js';
import { createLogger } from '../src/core/logger.js';
import { Engine } from '../src/engine/index.js';
import { openDatabase } from '../src/store/database.js';
import type { NewEvent } from '../src/store/event-store.js';
import { envelope } from '../src/webhooks/delivery/delivery-worker.js';
import { generateWebhookSecret, signStandardWebhook } from '../src/webhooks/sign/standard-webhooks.js';
import { median, printTable } from './util.js';

const N = Number(process.env.DELIVERIES ?? 20_000);
const RUNS = Number(process.env.RUNS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 64);

/** The receiver runs in its own process so it does not share the event loop with either sender. */
async function startReceiver(): Promise<{ url: string; stop(): void }> {
  const child = fork(new URL('./receiver-process.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
  return { url: `http://127.0.0.1:${port}/hooks`, stop: () => child.kill() };
}

const SECRET = generateWebhookSecret();

function newEvent(i: number, now: number): NewEvent {
  return {
    id: newId('evt', now),
    source: 'shop',
    externalId: `order-${i}`,
    type: 'order.created',
    headers: {},
    body: Buffer.from(
      JSON.stringify({ order: i, total: 1234, currency: 'EUR', lines: [{ sku: 'A-1', qty: 2 }] }),
    ),
    contentType: 'application/json',
    requestId: null,
    verification: 'api',
    receivedAt: now,
    occurredAt: null,
  };
}

/**
 * The requests Patchbay sends for the N events, built before the clock starts: the same envelope bytes
 * and the same headers (with a precomputed signature), so the baseline moves exactly the same bytes and
 * only Patchbay's own work (signing, queue, durable records) separates the two.
 */
function sameRequests(): { body: Buffer; headers: Record<string, string> }[] {
  const now = Date.now();
  return Array.from({ length: N }, (_, i) => {
    const event = newEvent(i, now);
    const envelopeBody = envelope({ ...event, duplicates: 0, lastDuplicateAt: null });
    return {
      body: envelopeBody,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Patchbay-Webhooks/1',
        ...signStandardWebhook({
          id: event.id,
          timestamp: Math.floor(now / 1000),
          body: envelopeBody,
          secrets: [SECRET],
        }),
      },
    };
  });
}

async function bare(url: string, cpuPerRequest: number[]): Promise<number> {
  const target = new URL(url);
  const requests = sameRequests();
  const pool = new Pool(target.origin, { connections: CONNECTIONS });
  let next = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < N) {
        const { body, headers } = requests[next++]!;
        const res = await pool.request({ method: 'POST', path: target.pathname, headers, body });
        await res.body.dump();
        if (res.statusCode !== 204) throw new Error(`receiver answered ${res.statusCode}`);
      }
    }),
  );
  const elapsed = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  cpuPerRequest.push((user + system) / N);
  await pool.close();
  return (N / elapsed) * 1000;
}

/**
 * Delivers N events to `url`, or to an in-process no-op handler when `url` is undefined. `busy` gets the
 * share of the delivery phase the event loop was busy: near 1, the main thread is the bottleneck.
 */
async function patchbay(
  url: string | undefined,
  cpuPerDelivery: number[],
  busy: number[] = [],
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-delivery-'));
  const config = parseConfig({
    database: { url: `sqlite:${join(dir, 'bench.db')}` },
    workers: { concurrency: CONNECTIONS, pollInterval: '50ms' },
    destinations: url ? [{ id: 'app', url, secrets: [SECRET] }] : [],
    delivery: { allowedNetworks: ['127.0.0.0/8'] },
  });
  const engine = await Engine.open({ config, logger: createLogger({ level: 'warn' }) });
  // The bench's own connection, to count rows (the engine hands out no store).
  const db = await openDatabase(config.database.url!);
  if (!url) await engine.on('shop.order.created', async () => {});
  // Events go in through the pipeline (routing creates the deliveries and their jobs) before the clock starts.
  const now = Date.now();
  for (let i = 0; i < N; i += 1000) {
    const batch: NewEvent[] = [];
    for (let j = i; j < Math.min(N, i + 1000); j++) batch.push(newEvent(j, now));
    await engine.events.ingest(batch);
  }
  const profiler = process.env.BENCH_PROFILE ? await startProfiler() : undefined;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  await engine.startWorkers();
  // Progress is read from the attempts counter, not by a query competing with the worker for the
  // database; the clock stops once the store holds every success.
  const attemptsTotal = engine.registry.getSingleMetric('patchbay_delivery_attempts_total') as Counter;
  for (;;) {
    const { values } = await attemptsTotal.get();
    const succeeded = values.reduce((sum, v) => sum + (v.labels.outcome === 'succeeded' ? v.value : 0), 0);
    if (succeeded >= N) {
      const row = await sql<{
        n: number;
      }>`select count(*) as n from deliveries where status = 'succeeded'`.execute(db.db);
      if (Number(row.rows[0]!.n) >= N) break;
    }
    await new Promise((r) => setTimeout(r, succeeded >= N ? 1 : 20));
  }
  const elapsed = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  cpuPerDelivery.push((user + system) / N);
  busy.push(performance.eventLoopUtilization(loop).utilization);
  await profiler?.stop(process.env.BENCH_PROFILE!);
  const attempts = await sql<{ n: number }>`select count(*) as n from delivery_attempts`.execute(db.db);
  if (Number(attempts.rows[0]!.n) !== N)
    throw new Error(`expected ${N} attempt records, found ${attempts.rows[0]!.n}`);
  await db.close();
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
  return (N / elapsed) * 1000;
}

/** BENCH_PROFILE=<file> writes a CPU profile of the delivery phase (not the set-up) of the last run. */
async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** ONLY_PATCHBAY=1 runs only the HTTP deliveries (for profiling): no bare Pool, no handler. */
const ONLY_PATCHBAY = Boolean(process.env.ONLY_PATCHBAY);
/** CPU time of this process per delivery (µs), a steadier figure than throughput on a noisy machine. */
const bareCpu: number[] = [];
const httpCpu: number[] = [];
const handlerCpu: number[] = [];
const httpBusy: number[] = [];

const receiver = await startReceiver();
const ours: number[] = [];
const base: number[] = [];
const ratios: number[] = [];
const handled: number[] = [];
// A first round, not counted, warms up both senders: the JIT and the caches would otherwise favour whichever
// runs more rounds of code, and the first Patchbay round is ~15 % slower than the next ones.
for (let run = -1; run < RUNS; run++) {
  const warmUp = run < 0;
  const sample = <T>(list: T[], value: T): T => {
    if (!warmUp) list.push(value);
    return value;
  };
  // Alternating in one run, so the ratio of each pair is taken under the same machine conditions.
  const b = ONLY_PATCHBAY ? undefined : sample(base, await bare(receiver.url, warmUp ? [] : bareCpu));
  const o = sample(ours, await patchbay(receiver.url, warmUp ? [] : httpCpu, warmUp ? [] : httpBusy));
  if (b !== undefined) sample(ratios, o / b);
  if (!ONLY_PATCHBAY) sample(handled, await patchbay(undefined, warmUp ? [] : handlerCpu));
  if (warmUp) continue;
  console.log(
    `run ${run + 1}: bare undici ${Math.round(base.at(-1) ?? 0)} req/s (${Math.round(bareCpu.at(-1) ?? 0)} µs CPU each), patchbay ${Math.round(ours.at(-1)!)} deliveries/s (${Math.round(httpCpu.at(-1)!)} µs CPU each, event loop busy ${Math.round(100 * httpBusy.at(-1)!)} %)` +
      (handled.length > 0
        ? `, to a handler ${Math.round(handled.at(-1)!)}/s (${Math.round(handlerCpu.at(-1)!)} µs CPU each)`
        : ''),
  );
}
receiver.stop();
console.log(
  `\nDelivery throughput (median of ${RUNS} runs of ${N}, ${CONNECTIONS} connections, SQLite synchronous=FULL):`,
);
const rows = [
  [
    'bare undici Pool (the same requests)',
    String(Math.round(median(base))),
    String(Math.round(median(bareCpu))),
    '1.00',
  ],
  [
    'patchbay (signed, durable attempt log)',
    String(Math.round(median(ours))),
    String(Math.round(median(httpCpu))),
    ratios.length > 0 ? median(ratios).toFixed(2) : '',
  ],
];
if (handled.length > 0)
  rows.push([
    'patchbay to an in-process handler (no HTTP)',
    String(Math.round(median(handled))),
    String(Math.round(median(handlerCpu))),
    '',
  ]);
printTable(
  ['sender', 'per second', 'µs CPU each', 'ratio (median of pairs)'],
  ONLY_PATCHBAY ? rows.slice(1) : rows,
);
