import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { defineSync } from '../../src/sync/index.js';
import { SyncRunner } from '../../src/sync/sync-runner.js';
import type { SyncService } from '../../src/sync/sync-service.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { dialects } from '../helpers/databases.js';
import { type SyncHarness, serviceHarness, storedRecords, syncHarness } from './helpers.js';
import { MemorySource } from './memory-source.js';

describe('verify', () => {
  let h: SyncHarness & { service: SyncService };
  let source: MemorySource;

  beforeEach(async () => {
    h = await serviceHarness(dialects[0]!);
    source = new MemorySource();
    source.seed(60);
    await h.service.define(source.sync());
    await h.service.start({ schedule: false });
    await h.service.runNow('people');
  });
  afterEach(async () => h?.cleanup());

  it('reports no drift when the store equals the source', async () => {
    const { report } = await h.service.verify('people');
    expect(report).toMatchObject({
      sourceRecords: 60,
      localRecords: 60,
      missing: { count: 0 },
      extra: { count: 0 },
      different: { count: 0 },
    });
  });

  it('finds missing, extra and different records, repairs them, and finds nothing after', async () => {
    // Drift the incremental reads cannot see: a record the source gained with an old timestamp, one it
    // lost without a tombstone, and a local row changed behind the sync's back.
    source.records.set('zz-new', { id: 'zz-new', name: 'backdated', updatedAt: 5 });
    source.records.delete('000010');
    await h.database.db
      .updateTable('sync_records')
      .set({ data: '{"id":"000020","name":"tampered","updatedAt":0}', hash: 'tampered' })
      .where('external_id', '=', '000020')
      .execute();
    await h.database.db.deleteFrom('sync_records').where('external_id', '=', '000030').execute();
    const progress: number[] = [];
    const { report } = await h.service.verify('people', { onProgress: (p) => progress.push(p.read) });
    expect(report).toMatchObject({
      sourceRecords: 60,
      missing: { count: 2, ids: ['zz-new', '000030'] }, // in the order the source listed them
      extra: { count: 1, ids: ['000010'] },
      different: { count: 1, ids: ['000020'] },
      repaired: false,
    });
    expect(progress.at(-1)).toBe(60);
    expect(await h.stores.records.count('people')).toBe(59); // verify alone changes nothing

    const repaired = await h.service.verify('people', { repair: true });
    expect(repaired.report.repaired).toBe(true);
    expect(await storedRecords(h.stores, 'people')).toEqual(new Map([...source.records]));
    const repairs = (await h.events('people')).filter((e) => e.body.origin === 'repair');
    expect(repairs.map((e) => e.type).sort()).toEqual([
      'people.record.created',
      'people.record.created',
      'people.record.deleted',
      'people.record.updated',
    ]);
    const again = await h.service.verify('people');
    expect(again.report).toMatchObject({
      missing: { count: 0 },
      extra: { count: 0 },
      different: { count: 0 },
    });
    const run = await h.service.run('people', repaired.runId);
    expect(run).toMatchObject({ mode: 'verify', status: 'succeeded', report: { repaired: true } });
  });

  it('refuses to verify while a run holds the lease', async () => {
    await h.stores.state.acquire('people', 'elsewhere', Date.now(), 60_000);
    await expect(h.service.verify('people')).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
  });
});

for (const dialect of dialects) {
  describe(`fencing on ${dialect.name}`, () => {
    let h: SyncHarness;
    afterEach(async () => h?.cleanup());

    it('a runner paused past its lease, then resumed, cannot commit', async () => {
      const t0 = Date.UTC(2026, 0, 1);
      const clockA = new FakeClock(t0);
      const clockB = new FakeClock(t0);
      h = await syncHarness(dialect, { clock: clockA, leaseMs: 10_000 });
      const runnerB = new SyncRunner(
        { ...h.ports, clock: clockB },
        { owner: 'b', leaseMs: 10_000, sweepBatch: 1000, maxCursorRestarts: 3 },
      );
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let reachedGate!: () => void;
      const atGate = new Promise<void>((resolve) => {
        reachedGate = resolve;
      });
      let calls = 0;
      const sync = defineSync({
        id: 'fenced',
        key: 'id',
        schema: {
          safeParse: (v: unknown) => ({ success: true as const, data: v as Record<string, unknown> }),
        },
        async *fetch() {
          const first = ++calls === 1;
          yield { records: [{ id: '1', v: 'fresh' }], checkpoint: { page: 1 } };
          if (first) {
            reachedGate();
            await gate; // runner A stops here: a GC pause, a SIGSTOP, a saturated event loop
            yield { records: [{ id: '2', v: 'stale' }], checkpoint: { page: 'stale' } };
            return;
          }
          yield { records: [{ id: '2', v: 'fresh' }], checkpoint: { page: 2 } };
        },
      });
      await h.stores.state.ensure([sync.id], t0);
      const a = h.runner.run(sync, { trigger: 'manual' });
      await atGate;
      // A's lease runs out while it is paused; B takes the sync over and finishes a run.
      clockB.set(t0 + 10_001);
      const b = await runnerB.run(sync, { trigger: 'schedule' });
      expect(b).toMatchObject({ status: 'succeeded' });
      release();
      const outcome = await a;
      expect(outcome).toMatchObject({ status: 'interrupted', error: { code: ErrorCode.LEASE_LOST } });
      const records = await storedRecords(h.stores, 'fenced');
      expect(records.get('2')).toEqual({ id: '2', v: 'fresh' });
      expect((await h.stores.state.require('fenced')).checkpoint).toEqual({ page: 2 });
    });

    it('a lease that expired is lost even when nobody took it over', async () => {
      const t0 = Date.UTC(2026, 0, 1);
      const clock = new FakeClock(t0);
      h = await syncHarness(dialect, { clock, leaseMs: 10_000 });
      const sync = defineSync({
        id: 'late',
        key: 'id',
        schema: {
          safeParse: (v: unknown) => ({ success: true as const, data: v as Record<string, unknown> }),
        },
        async *fetch() {
          yield { records: [{ id: '1' }], checkpoint: 1 };
          yield { records: [{ id: '2' }], checkpoint: 2 };
          // Pages are read one ahead: this runs while page 2 commits. The process is paused for a
          // minute there, its heartbeat with it.
          clock.set(t0 + 60_000);
          yield { records: [{ id: '3' }], checkpoint: 3 };
        },
      });
      await h.stores.state.ensure([sync.id], t0);
      const outcome = await h.runner.run(sync, { trigger: 'manual' });
      expect(outcome).toMatchObject({ status: 'interrupted' });
      expect([...(await storedRecords(h.stores, 'late')).keys()]).toEqual(['1']);
      const rows = await sql<{ n: number }>`select count(*) as n from sync_records`.execute(h.database.db);
      expect(Number(rows.rows[0]!.n)).toBe(1);
    });
  });
}
