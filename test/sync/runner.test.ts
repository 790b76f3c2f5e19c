import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/databases.js';
import { type SyncHarness, syncHarness } from './helpers.js';
import { MemorySource } from './memory-source.js';

for (const dialect of dialects) {
  describe(`sync runner on ${dialect.name}`, () => {
    let h: SyncHarness;
    let source: MemorySource;

    beforeEach(async () => {
      h = await syncHarness(dialect);
      source = new MemorySource();
    });
    afterEach(async () => h?.cleanup());

    async function localState(syncId = 'people') {
      const rows = await h.stores.records.list(syncId, { limit: 100_000 });
      return new Map(rows.map((r) => [r.id, JSON.parse(r.data) as Record<string, unknown>]));
    }

    it('stores an initial sync page by page, with one created event per record', async () => {
      source.seed(35);
      const sync = source.sync();
      await h.stores.state.ensure([sync.id], Date.now());
      const outcome = await h.runner.run(sync, { trigger: 'manual' });
      expect(outcome).toMatchObject({ status: 'succeeded', counts: { pages: 4, seen: 35, created: 35 } });
      expect(await localState()).toEqual(new Map([...source.records].map(([id, r]) => [id, r])));
      const events = await h.events('people');
      expect(events).toHaveLength(35);
      expect(events[0]).toMatchObject({
        type: 'people.record.created',
        body: { syncId: 'people', change: 'created', revision: 1, origin: 'source', data: { id: '000000' } },
      });
      const run = await h.stores.runs.get(outcome.status === 'busy' ? '' : outcome.runId);
      expect(run).toMatchObject({ status: 'succeeded', pages: 4, created: 35, seen: 35 });
    });

    it('makes no change and no event when an unchanged page is read again', async () => {
      source.seed(12);
      const sync = source.sync();
      await h.stores.state.ensure([sync.id], Date.now());
      await h.runner.run(sync, { trigger: 'manual' });
      const again = await h.runner.run(sync, { trigger: 'manual', mode: 'full' });
      expect(again).toMatchObject({
        status: 'succeeded',
        counts: { seen: 12, created: 0, updated: 0, deleted: 0 },
      });
      expect(await h.events('people')).toHaveLength(12);
    });

    it('picks up updates, creations and tombstones incrementally, naming the changed fields', async () => {
      source.seed(5);
      const sync = source.sync();
      await h.stores.state.ensure([sync.id], Date.now());
      await h.runner.run(sync, { trigger: 'manual' });
      source.put('000001', { name: 'changed' });
      source.put('new');
      source.delete('000003');
      const outcome = await h.runner.run(sync, { trigger: 'schedule' });
      expect(outcome).toMatchObject({ status: 'succeeded', counts: { created: 1, updated: 1, deleted: 1 } });
      expect(await localState()).toEqual(new Map([...source.records].map(([id, r]) => [id, r])));
      const events = (await h.events('people')).slice(5);
      expect(events.map((e) => e.type).sort()).toEqual([
        'people.record.created',
        'people.record.deleted',
        'people.record.updated',
      ]);
      expect(events.find((e) => e.type === 'people.record.updated')!.body).toMatchObject({
        id: '000001',
        changedFields: ['name', 'updatedAt'],
        revision: 2,
      });
    });

    it('resumes after a failure from the last committed page, fetching no page more than twice', async () => {
      source.seed(50);
      source.failAfterPages = 3;
      const sync = source.sync();
      await h.stores.state.ensure([sync.id], Date.now());
      const failed = await h.runner.run(sync, { trigger: 'manual' });
      expect(failed).toMatchObject({ status: 'failed', counts: { pages: 3, created: 30 } });
      expect(failed.status !== 'busy' && failed.error?.message).toMatch(/connection reset/);
      const resumed = await h.runner.run(sync, { trigger: 'schedule' });
      expect(resumed).toMatchObject({ status: 'succeeded', counts: { created: 20 } });
      expect(await localState()).toEqual(new Map([...source.records].map(([id, r]) => [id, r])));
      expect(Math.max(...source.fetches.values())).toBeLessThanOrEqual(2);
      expect(await h.events('people')).toHaveLength(50);
    });

    it('restarts from the watermark the model gives when its cursor expires, and converges', async () => {
      source.seed(30);
      const sync = source.sync();
      await h.stores.state.ensure([sync.id], Date.now());
      await h.runner.run(sync, { trigger: 'manual' });
      source.put('000002', { name: 'x' });
      source.expireNext = true;
      const outcome = await h.runner.run(sync, { trigger: 'schedule' });
      expect(outcome).toMatchObject({ status: 'succeeded', counts: { updated: 1 } });
      expect(await localState()).toEqual(new Map([...source.records].map(([id, r]) => [id, r])));
    });

    it('says busy while another runner holds the lease', async () => {
      source.seed(1);
      const sync = source.sync();
      await h.stores.state.ensure([sync.id], Date.now());
      const lease = await h.stores.state.acquire(sync.id, 'other', Date.now(), 60_000);
      expect(lease).toBeDefined();
      expect(await h.runner.run(sync, { trigger: 'manual' })).toEqual({ status: 'busy' });
    });
  });
}
