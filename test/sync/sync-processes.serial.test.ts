import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { openSyncStores } from '../../src/store/sync/index.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

interface RunLine {
  owner: string;
  status: string;
  runId?: string;
  startedAt: number;
  fetchStartedAt: number;
  endedAt: number;
}

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const postgres = allDialects.find((d) => d.dialect.name === 'postgres')!;

/**
 * Three processes run the same sync in a loop on one PostgreSQL database: the lease lets one run at a
 * time, whoever holds it. In lease-token order, every run's read began after the run before it had
 * recorded its end, and every process got runs (the others found it busy meanwhile).
 */
describe.skipIf(!postgres.available)('three processes on PostgreSQL', () => {
  it('run each sync once at a time', { timeout: 180_000 }, async () => {
    const { database, testDb, cleanup } = await migratedDatabase(postgres.dialect);
    cleanups.push(cleanup);
    const lines: RunLine[] = [];
    for (let i = 1; i <= 3; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/sync-runner-process.ts'], {
        env: {
          ...process.env,
          PATCHBAY_FIXTURE: JSON.stringify({ databaseUrl: testDb.url, owner: `p${i}`, leaseMs: 5000 }),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line)));
    }
    const ran = () => lines.filter((l) => l.status !== 'busy');
    const deadline = Date.now() + 150_000;
    while (ran().length < 30 || new Set(ran().map((l) => l.owner)).size < 3) {
      if (Date.now() > deadline) throw new Error(`too few runs: ${JSON.stringify(ran().slice(-5))}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const child of children) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    expect(ran().filter((l) => l.status !== 'succeeded')).toEqual([]);
    expect(lines.some((l) => l.status === 'busy')).toBe(true);

    // The store's record of the runs, in lease order: each run's fetch began (under its lease) after the
    // run before had recorded its end (under its lease), and the tokens rise.
    const stores = openSyncStores(database);
    const fetchStart = new Map(ran().map((l) => [l.runId!, l.fetchStartedAt]));
    const runs = (await stores.runs.list('shared', { limit: 500 }))
      .filter((r) => r.finishedAt !== null && fetchStart.has(r.id))
      .sort((a, b) => a.leaseToken - b.leaseToken);
    expect(runs.length).toBeGreaterThanOrEqual(30);
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.leaseToken).toBeGreaterThan(runs[i - 1]!.leaseToken);
      expect(fetchStart.get(runs[i]!.id), runs[i]!.id).toBeGreaterThanOrEqual(runs[i - 1]!.finishedAt!);
    }
    const owners = new Set(ran().map((l) => l.owner));
    expect(owners).toEqual(new Set(['p1', 'p2', 'p3']));
    expect(await stores.records.count('shared')).toBe(50);
  });
});
