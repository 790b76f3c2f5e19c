import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CursorExpiredError } from '../../src/sync/index.js';
import { dialects } from '../helpers/databases.js';
import { type SyncHarness, serviceHarness, storedRecords } from './helpers.js';
import { MemorySource } from './memory-source.js';

for (const dialect of dialects) {
  describe(`sync deletes on ${dialect.name}`, () => {
    let h: SyncHarness & { service: import('../../src/sync/sync-service.js').SyncService };
    let source: MemorySource;

    beforeEach(async () => {
      h = await serviceHarness(dialect);
      source = new MemorySource();
    });
    afterEach(async () => h?.cleanup());

    const expectConverged = async () =>
      expect(await storedRecords(h.stores, 'people')).toEqual(new Map([...source.records]));

    async function define(overrides = {}) {
      await h.service.define(source.sync(overrides));
      await h.service.start({ schedule: false });
    }

    it('deletes, after a complete full read, the records it did not see', async () => {
      source.seed(20);
      await define();
      await h.service.runNow('people');
      source.records.delete('000004'); // gone without a tombstone
      const full = await h.service.runNow('people', { mode: 'full' });
      expect(full).toMatchObject({ status: 'succeeded', counts: { deleted: 1 } });
      await expectConverged();
      const deleted = (await h.events('people')).filter((e) => e.type === 'people.record.deleted');
      expect(deleted.map((e) => e.body.id)).toEqual(['000004']);
    });

    it('deletes nothing when a full read is interrupted, and resumes it to the right deletes', async () => {
      source.seed(40);
      await define();
      await h.service.runNow('people');
      for (const id of ['000001', '000035']) source.records.delete(id);
      source.failAfterPages = 2;
      const cut = await h.service.runNow('people', { mode: 'full' });
      expect(cut).toMatchObject({ status: 'failed', counts: { deleted: 0 } });
      expect(await h.stores.records.count('people')).toBe(40);
      expect((await h.service.status('people')).fullPending).toBe(true);
      // The next run, scheduled or not, resumes the full read from its last committed page.
      const resumed = await h.service.runNow('people', { trigger: 'schedule' });
      expect(resumed).toMatchObject({ status: 'succeeded', mode: 'full', counts: { deleted: 2 } });
      await expectConverged();
      expect(Math.max(...source.fetches.values())).toBeLessThanOrEqual(2);
    });

    it('holds a mass delete until confirmed, announcing sync.deletes_held', async () => {
      source.seed(100);
      await define();
      await h.service.runNow('people');
      for (let i = 0; i < 50; i++) source.records.delete(String(i).padStart(6, '0'));
      const full = await h.service.runNow('people', { mode: 'full' });
      expect(full).toMatchObject({ status: 'succeeded', counts: { deleted: 0, deletesHeld: 50 } });
      expect(await h.stores.records.count('people')).toBe(100);
      const status = await h.service.status('people');
      expect(status.deletesHeld).toMatchObject({ count: 50, live: 100 });
      expect(status.health.reasons.join()).toMatch(/50 deletes are held/);
      const [held] = await h.pipeline.store.list({
        source: 'patchbay',
        type: 'sync.deletes_held',
        limit: 10,
      });
      expect(JSON.parse(held!.body.toString())).toMatchObject({
        syncId: 'people',
        count: 50,
        live: 100,
        share: 0.5,
      });

      // Incremental runs meanwhile neither delete nor lose the hold.
      source.put('000099', { name: 'still here' });
      await h.service.runNow('people');
      expect(await h.stores.records.count('people')).toBe(100);

      await h.service.confirmDeletes('people');
      const swept = await h.service.runNow('people', { trigger: 'confirm' });
      expect(swept).toMatchObject({ status: 'succeeded', counts: { deleted: 50 } });
      await expectConverged();
      expect((await h.service.status('people')).deletesHeld).toBeNull();
    });

    it('keeps the records when held deletes are discarded', async () => {
      source.seed(30);
      await define({ deletes: { maxShare: 0.1, floor: 0 } });
      await h.service.runNow('people');
      for (let i = 0; i < 5; i++) source.records.delete(String(i).padStart(6, '0'));
      await h.service.runNow('people', { mode: 'full' });
      await h.service.discardDeletes('people');
      await h.service.runNow('people');
      expect(await h.stores.records.count('people')).toBe(30);
      await expect(h.service.confirmDeletes('people')).rejects.toThrow(/holds no deletes/);
    });

    it('deletes nothing after a full read that says it was not complete', async () => {
      source.seed(10);
      const base = source.sync();
      await define({
        async *fetch(ctx: Parameters<typeof base.fetch>[0]) {
          for await (const page of base.fetch(ctx)) yield { ...page, complete: false };
        },
      });
      await h.service.runNow('people');
      source.records.delete('000002');
      const full = await h.service.runNow('people', { mode: 'full' });
      expect(full).toMatchObject({ status: 'succeeded', counts: { deleted: 0 } });
      expect(await h.stores.records.count('people')).toBe(10);
      const run = await h.service.run('people', (full as { runId: string }).runId);
      expect(run.report).toMatchObject({ fullRead: expect.stringMatching(/incomplete/) });
    });

    it('finds deletes a lost cursor would have reported by a full read after it expires', async () => {
      source.seed(25);
      const base = source.sync();
      let expire = false;
      await define({
        async *fetch(ctx: Parameters<typeof base.fetch>[0]) {
          if (ctx.mode === 'incremental' && expire) {
            expire = false;
            throw new CursorExpiredError('delta token expired (410)');
          }
          yield* base.fetch(ctx);
        },
      });
      await h.service.runNow('people');
      source.delete('000007');
      source.tombstones.length = 0; // the tombstones went with the cursor
      source.put('000008', { name: 'renamed' });
      expire = true;
      const outcome = await h.service.runNow('people');
      expect(outcome).toMatchObject({
        status: 'succeeded',
        mode: 'incremental',
        counts: { deleted: 1, updated: 1 },
      });
      await expectConverged();
    });
  });
}
