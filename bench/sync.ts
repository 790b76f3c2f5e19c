/**
 * Sync throughput: records/s of a declarative sync reading the records fake on loopback (HTTP, pages of
 * 100, a mapping, JSON-Schema validation, hashing, the records store, a change event per record in the
 * page's transaction), beside a bare loop inserting the same rows into the same store's `sync_records`
 * in 100-row transactions with the query builder (the ceiling for "a record is a row").
 *
 *   initial    the first read of RECORDS records (every one created, every one an event)
 *   unchanged  an incremental read whose lookback covers every record: RECORDS records read again,
 *              none changed (no event, almost no write)
 *
 *   npx tsx bench/sync.ts                  # SQLite (synchronous=FULL); PostgreSQL too when PATCHBAY_TEST_POSTGRES_URL is set
 *   RECORDS=10000 RUNS=1 npx tsx bench/sync.ts
 *   ONLY=postgres npx tsx bench/sync.ts    # one store (or ONLY=sqlite)
 */
import { fork } from 'node:child_process';
import { systemClock } from '../src/core/clock.js';
import { parseConfig } from '../src/core/config/index.js';
import { silentLogger } from '../src/core/logger.js';
import { createHttpClient } from '../src/http/index.js';
import type { Database } from '../src/store/database.js';
import type { SyncRecordsTable } from '../src/store/schema.js';
import { openSyncStores } from '../src/store/sync/index.js';
import { syncsFromConfig } from '../src/sync/config-syncs.js';
import { SyncService } from '../src/sync/sync-service.js';
import { recordsSyncRequest } from '../src/testing/records-fake/index.js';
import { EventPipeline } from '../src/webhooks/pipeline.js';
import { benchTargets, cpuMsSince, median, perSecond, printTable } from './util.js';

const RECORDS = Number(process.env.RECORDS ?? 50_000);
const RUNS = Number(process.env.RUNS ?? 3);
const BATCH = 100;
const targets = benchTargets({ prefix: 'patchbay_bench_sync', poolSize: 4 });

const entry = {
  id: 'people',
  connection: 'api',
  // A lookback longer than the data's life: every incremental read reads every record again.
  request: recordsSyncRequest({ incremental: { lookback: '3650d' }, query: { limit: BATCH } }),
  transform: { rename: { name: 'fullName' }, coerce: { score: 'integer' } },
  schema: {
    type: 'object',
    required: ['id', 'email', 'fullName', 'score'],
    properties: {
      id: { type: 'string' },
      email: { type: 'string' },
      fullName: { type: 'string' },
      status: { enum: ['active', 'inactive'] },
      score: { type: 'integer', minimum: 0 },
    },
  },
};

// The fake serves from its own process, as a provider would: its work is not the sync's.
const fake = fork(new URL('./records-fake-process.ts', import.meta.url).pathname, [], {
  execArgv: ['--import', 'tsx'],
  env: { ...process.env, RECORDS: String(RECORDS) },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const fakeUrl = await new Promise<string>((resolve) => fake.once('message', (m) => resolve(String(m))));
const http = createHttpClient({
  baseUrl: fakeUrl,
  allowInsecureHttp: true,
  auth: { authorize: async () => ({ headers: { authorization: 'Bearer bench' } }) },
});

/** Patchbay: the initial read and an unchanged pass; returns both durations and the stored rows. */
async function patchbay(
  database: Database,
): Promise<{ initial: number; unchanged: number; rows: SyncRecordsTable[] }> {
  const stores = openSyncStores(database);
  const pipeline = new EventPipeline({ database, clock: systemClock });
  const service = new SyncService({
    ports: {
      stores,
      events: { append: async (tx, events) => void (await pipeline.appendInTransaction(tx, events)) },
      clients: () => http,
      clock: systemClock,
      logger: silentLogger,
    },
    owner: 'bench',
  });
  const [definition] = await syncsFromConfig(parseConfig({ syncs: [entry] }).syncs, {
    models: new Map(),
    connectionExists: async () => true,
  });
  await service.define(definition!);
  await service.start({ schedule: false });
  const timed = async (expectCreated: number) => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const outcome = await service.runNow('people');
    const ms = performance.now() - started;
    cpuMs.push(cpuMsSince(cpu));
    if (
      outcome.status !== 'succeeded' ||
      outcome.counts.seen < RECORDS ||
      outcome.counts.created !== expectCreated
    )
      throw new Error(`the run did not do what was measured: ${JSON.stringify(outcome)}`);
    if (expectCreated === 0 && outcome.counts.updated + outcome.counts.deleted > 0)
      throw new Error(`an unchanged pass changed records: ${JSON.stringify(outcome.counts)}`);
    return ms;
  };
  const initial = await timed(RECORDS);
  const unchanged = await timed(0);
  await service.stop();
  const rows = await database.db.selectFrom('sync_records').selectAll().orderBy('external_id').execute();
  return { initial, unchanged, rows };
}

/** The baseline: the same rows inserted into an empty `sync_records`, 100 a transaction. */
async function bareLoop(database: Database, rows: readonly SyncRecordsTable[]): Promise<number> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    await database.transaction(async (tx) => {
      await tx.db.insertInto('sync_records').values(batch).execute();
    });
  }
  cpuMs.push(cpuMsSince(cpu));
  return performance.now() - started;
}

/** CPU time of this process (the sync's, not the fake's) in each measured pass, in ms, in the order they ran. */
const cpuMs: number[] = [];
const rate = (ms: number) => perSecond(RECORDS, ms);
const results: string[][] = [];
console.log(
  `sync: ${RECORDS} records from the records fake on loopback, pages of ${BATCH}, ${RUNS} runs, medians`,
);
for (const target of targets) {
  const initial: number[] = [];
  const unchanged: number[] = [];
  const bare: number[] = [];
  const cpu: { initial: number[]; unchanged: number[]; bare: number[] } = {
    initial: [],
    unchanged: [],
    bare: [],
  };
  for (let run = 0; run < RUNS; run++) {
    const a = await target.open();
    const measured = await patchbay(a.database);
    await a.drop();
    const b = await target.open();
    bare.push(await bareLoop(b.database, measured.rows));
    cpu.initial.push(cpuMs.shift()!);
    cpu.unchanged.push(cpuMs.shift()!);
    cpu.bare.push(cpuMs.shift()!);
    await b.drop();
    initial.push(measured.initial);
    unchanged.push(measured.unchanged);
  }
  const baseline = rate(median(bare));
  const perRecord = (ms: number[]) => `${((median(ms) * 1000) / RECORDS).toFixed(0)} µs`;
  for (const [name, values, cpuValues] of [
    ['initial sync', initial, cpu.initial],
    ['unchanged pass', unchanged, cpu.unchanged],
  ] as const) {
    const records = rate(median(values));
    results.push([
      target.name,
      name,
      records.toFixed(0),
      baseline.toFixed(0),
      `${(records / baseline).toFixed(2)}×`,
      perRecord(cpuValues),
      perRecord(cpu.bare),
    ]);
  }
}
printTable(['store', 'pass', 'records/s', 'bare loop/s', 'ratio', 'cpu/record', 'bare cpu/record'], results);
console.log('targets: initial sync ≥ 0.40× the bare loop, unchanged pass ≥ 1.00×');
await http.close();
fake.disconnect();
