/**
 * Durable webhook ingest: requests/s and latency of `POST /webhooks/:source` (GitHub signature verified,
 * deduplicated, group-committed to SQLite with synchronous=FULL, or to PostgreSQL) at 50 connections, beside
 * a bare node:http server that only reads the body — the ceiling of this machine. Servers run in their own
 * processes; the load generator is this process.
 *
 *   npx tsx bench/ingress.ts            # REQUESTS=20000 RUNS=3 CONNECTIONS=50
 *   PATCHBAY_TEST_POSTGRES_URL=postgres://… npx tsx bench/ingress.ts   # adds the PostgreSQL rows
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { median, percentile, printTable } from './util.js';

const N = Number(process.env.REQUESTS ?? 20_000);
const RUNS = Number(process.env.RUNS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const POSTGRES_URL = process.env.PATCHBAY_TEST_POSTGRES_URL;
const SECRET = randomBytes(20).toString('hex');

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

async function startProcess(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ port: number; child: ChildProcess }> {
  const child = fork(new URL(script, import.meta.url).pathname, args, {
    env: { ...process.env, ...env },
    // BENCH_PROFILE=1 writes a CPU profile of each server process to ./profiles.
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=profiles'] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { port, child };
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (child.exitCode === null) await once(child, 'exit');
}

/** Signed GitHub-style webhooks, made before the clock starts; `run` makes the delivery ids unique. */
function requests(run: string): { body: string; headers: Record<string, string> }[] {
  return Array.from({ length: N }, (_, i) => {
    const body = JSON.stringify({
      action: 'opened',
      number: i,
      repository: { full_name: 'acme/shop' },
      sender: { login: 'octocat' },
      note: 'x'.repeat(400),
    });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-delivery': `${run}-${i}`,
        'x-github-event': 'pull_request',
        'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      },
    };
  });
}

async function load(
  port: number,
  path: string,
  work: ReturnType<typeof requests>,
  expect: number,
): Promise<Result> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
  const latencies = new Array<number>(work.length);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < work.length) {
        const i = next++;
        const t0 = performance.now();
        const res = await pool.request({
          method: 'POST',
          path,
          headers: work[i]!.headers,
          body: work[i]!.body,
        });
        await res.body.dump();
        latencies[i] = performance.now() - t0;
        if (res.statusCode !== expect) throw new Error(`${path} answered ${res.statusCode}`);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  return { rps: work.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function bare(run: string): Promise<Result> {
  const { port, child } = await startProcess('./receiver-process.ts', []);
  try {
    await load(port, '/hooks', requests(`warm-${run}`).slice(0, 2000), 204);
    return await load(port, '/hooks', requests(run), 204);
  } finally {
    await stop(child);
  }
}

async function patchbay(databaseUrl: string, run: string, env: Record<string, string> = {}): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchbay-bench-'));
  const { port, child } = await startProcess('./ingress-server.ts', [databaseUrl, SECRET, dataDir], env);
  try {
    await load(port, '/webhooks/bench', requests(`warm-${run}`).slice(0, 2000), 200);
    return await load(port, '/webhooks/bench', requests(run), 200);
  } finally {
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function withPostgresDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `patchbay_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  try {
    const url = new URL(POSTGRES_URL!);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
}

/** An OTLP/HTTP collector that accepts and drops spans: the cost measured is Patchbay's side only. */
const collector = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
const TRACED = {
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
};

async function onSqlite(run: string, env: Record<string, string> = {}): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-db-'));
  try {
    return await patchbay(`sqlite://${join(dir, 'bench.db')}`, run, env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const variants: [string, (run: string) => Promise<Result>][] = [
  ['bare node:http (reads body)', bare],
  ['patchbay sqlite (synchronous=FULL)', (run) => onSqlite(run)],
  // Every request traced (sampled), spans exported over OTLP/HTTP in batches.
  ['patchbay sqlite, tracing on', (run) => onSqlite(run, TRACED)],
];
if (POSTGRES_URL)
  variants.push(['patchbay postgres', (run) => withPostgresDatabase((url) => patchbay(url, run))]);

const results = new Map<string, Result[]>();
for (let run = 0; run < RUNS; run++) {
  // Interleaved, so drift in the machine's load hits every variant alike.
  for (const [name, fn] of variants) {
    const list = results.get(name) ?? [];
    list.push(await fn(`r${run}-${randomBytes(3).toString('hex')}`));
    results.set(name, list);
  }
}

const bareRps = median(results.get(variants[0]![0])!.map((r) => r.rps));
console.log(`\ningress: ${N} requests, ${CONNECTIONS} connections, median of ${RUNS} runs\n`);
printTable(
  ['server', 'req/s', 'p50 ms', 'p99 ms', 'vs bare'],
  [...results].map(([name, list]) => {
    const rps = median(list.map((r) => r.rps));
    return [
      name,
      rps.toFixed(0),
      median(list.map((r) => r.p50)).toFixed(1),
      median(list.map((r) => r.p99)).toFixed(1),
      `${(rps / bareRps).toFixed(2)}×`,
    ];
  }),
);
console.log('\ngoal: patchbay ≥ 0.30× bare with p99 ≤ 20 ms');

const untraced = median(results.get('patchbay sqlite (synchronous=FULL)')!.map((r) => r.rps));
const traced = median(results.get('patchbay sqlite, tracing on')!.map((r) => r.rps));
console.log(`\ntracing on: ${(traced / untraced).toFixed(2)}× the req/s of tracing off (same run)`);
collector.close();
