/**
 * Queue throughput: jobs/s claimed + completed by Patchbay's QueueWorker, on SQLite (synchronous=FULL)
 * and PostgreSQL, with 1 and 4 workers and claim batches of 1 and 100, printed beside a bare loop on the
 * same database that takes and deletes rows with the raw driver (the ceiling for "a job is a row") and,
 * on PostgreSQL, beside graphile-worker 0.17.3 (a well-known PostgreSQL queue) on the same database with
 * the same workers (runners), concurrency and batch (its local queue and batched completions).
 *
 *   npx tsx bench/queue.ts              # SQLite; PostgreSQL too when PATCHBAY_TEST_POSTGRES_URL is set
 *   JOBS=20000 RUNS=3 npx tsx bench/queue.ts
 *   ONLY=postgres npx tsx bench/queue.ts  # one store (or ONLY=sqlite)
 */
import { Logger, makeWorkerUtils, run as runGraphileWorker } from 'graphile-worker';
import { sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../src/store/database.js';
import { JobQueue } from '../src/store/queue.js';
import { QueueWorker } from '../src/store/queue-worker.js';
import { benchTargets, median, perSecond, printTable } from './util.js';

const JOBS = Number(process.env.JOBS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 3);
const targets = benchTargets({ prefix: 'patchbay_bench_queue', poolSize: 12 });

/** Batch-1 runs pay one commit per claim and per completion: a tenth of the jobs measures them as well. */
const jobsFor = (batch: number) => (batch === 1 ? Math.max(500, Math.floor(JOBS / 10)) : JOBS);

async function fill(queue: JobQueue, name: string, count: number): Promise<void> {
  const jobs = Array.from({ length: count }, (_, i) => ({ queue: name, payload: { i } }));
  for (let i = 0; i < jobs.length; i += 2000) await queue.add(jobs.slice(i, i + 2000));
}

/** Patchbay: `workers` QueueWorkers with batch `batch`, until every job is completed. */
async function runPatchbay(database: Database, workers: number, batch: number): Promise<number> {
  const queue = new JobQueue(database);
  const name = `bench_${workers}_${batch}_${Math.random().toString(36).slice(2, 7)}`;
  const count = jobsFor(batch);
  await fill(queue, name, count);
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const pool = Array.from(
    { length: workers },
    () =>
      new QueueWorker(database, queue, {
        queue: name,
        concurrency: batch,
        batchSize: batch,
        pollIntervalMs: 20,
        handler: async () => undefined,
        onSettled: () => {
          if (++done === count) finish();
        },
      }),
  );
  const start = performance.now();
  await Promise.all(pool.map((w) => w.start()));
  await finished;
  const elapsed = performance.now() - start;
  await Promise.all(pool.map((w) => w.stop()));
  const left = await database.db
    .selectFrom('jobs')
    .select(sql<number>`count(*)`.as('n'))
    .where('queue', '=', name)
    .executeTakeFirst();
  if (Number(left?.n) !== 0) throw new Error(`bench bug: ${left?.n} jobs left`);
  return perSecond(count, elapsed);
}

/** Baseline: a bare loop that deletes `batch` oldest rows per statement through the raw driver. */
async function runBaseline(target: string, url: string, workers: number, batch: number): Promise<number> {
  const count = jobsFor(batch);
  if (target === 'sqlite') {
    const { default: Sqlite } = await import('better-sqlite3');
    const db = new Sqlite(url.replace(/^sqlite:/, ''));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('create table if not exists plain (id integer primary key, payload text not null)');
    const insert = db.prepare('insert into plain (payload) values (?)');
    db.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(JSON.stringify({ i }));
    })();
    const take = db.prepare(
      'delete from plain where id in (select id from plain order by id limit ?) returning id',
    );
    const start = performance.now();
    // One SQLite connection serialises writers whatever the worker count, as Patchbay's does.
    let taken = 0;
    while (taken < count) taken += take.all(batch).length;
    const elapsed = performance.now() - start;
    db.close();
    return perSecond(count, elapsed);
  }
  const pool = new pg.Pool({ connectionString: url, max: workers + 1 });
  await pool.query('create table if not exists plain (id bigserial primary key, payload text not null)');
  await pool.query(
    'insert into plain (payload) select json_build_object($1::text, g)::text from generate_series(1, $2) g',
    ['i', count],
  );
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (;;) {
        const { rowCount } = await pool.query(
          'delete from plain where id in (select id from plain order by id limit $1 for update skip locked) returning id',
          [batch],
        );
        if (!rowCount) {
          const { rows } = await pool.query('select count(*)::int as n from plain');
          if (rows[0].n === 0) return;
        }
      }
    }),
  );
  const elapsed = performance.now() - start;
  await pool.end();
  return perSecond(count, elapsed);
}

/**
 * graphile-worker on the same database: `workers` runners, each running `batch` jobs at once; at batch
 * 100 each runner locks 100 jobs at a time (localQueue) and completes them in batches, as Patchbay's
 * claim batch does. Jobs are added in bulk (addJobs) before the clock starts.
 */
async function runGraphile(url: string, workers: number, batch: number): Promise<number> {
  const count = jobsFor(batch);
  const identifier = `bench_${workers}_${batch}_${Math.random().toString(36).slice(2, 7)}`;
  const utils = await makeWorkerUtils({ connectionString: url });
  await utils.migrate();
  for (let i = 0; i < count; i += 2000) {
    await utils.addJobs(
      Array.from({ length: Math.min(2000, count - i) }, (_, k) => ({ identifier, payload: { i: i + k } })),
    );
  }
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const quiet = new Logger(() => () => {});
  const start = performance.now();
  const runners = await Promise.all(
    Array.from({ length: workers }, () =>
      runGraphileWorker({
        connectionString: url,
        concurrency: batch,
        maxPoolSize: batch + 2,
        pollInterval: 20,
        noHandleSignals: true,
        logger: quiet,
        taskList: {
          [identifier]: async () => {
            if (++done === count) finish();
          },
        },
        ...(batch > 1 && {
          preset: { worker: { localQueue: { size: batch }, completeJobBatchDelay: 0 } },
        }),
      }),
    ),
  );
  await finished;
  const elapsed = performance.now() - start;
  await Promise.all(runners.map((r) => r.stop()));
  await utils.release();
  return perSecond(count, elapsed);
}

const rows: string[][] = [];
for (const target of targets) {
  const { database, url, drop } = await target.open();
  for (const workers of [1, 4]) {
    for (const batch of [1, 100]) {
      const ours: number[] = [];
      const base: number[] = [];
      const peer: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        ours.push(await runPatchbay(database, workers, batch));
        base.push(await runBaseline(target.name, url, workers, batch));
        if (target.name === 'postgres') peer.push(await runGraphile(url, workers, batch));
      }
      const o = median(ours);
      const b = median(base);
      const g = peer.length > 0 ? median(peer) : undefined;
      rows.push([
        target.name,
        String(workers),
        String(batch),
        Math.round(o).toString(),
        Math.round(b).toString(),
        (o / b).toFixed(2),
        g === undefined ? '' : Math.round(g).toString(),
        g === undefined ? '' : (o / g).toFixed(2),
      ]);
      console.log(
        `${target.name} workers=${workers} batch=${batch}: patchbay ${Math.round(o)} jobs/s, bare loop ${Math.round(b)} jobs/s${g === undefined ? '' : `, graphile-worker ${Math.round(g)} jobs/s`}`,
      );
    }
  }
  await drop();
}

console.log(
  `\nQueue throughput, claimed + completed (median of ${RUNS} runs; ${JOBS} jobs per run, ${jobsFor(1)} at batch 1):`,
);
printTable(
  [
    'store',
    'workers',
    'batch',
    'patchbay jobs/s',
    'bare loop jobs/s',
    'ratio',
    'graphile-worker jobs/s',
    'ratio to graphile-worker',
  ],
  rows,
);
