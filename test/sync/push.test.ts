import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { ErrorCode } from '../../src/core/errors.js';
import type { ConflictPolicy } from '../../src/sync/index.js';
import type { SyncService } from '../../src/sync/sync-service.js';
import { dialects } from '../helpers/databases.js';
import { type SyncHarness, serviceHarness } from './helpers.js';
import { MemorySource } from './memory-source.js';

/** A clock that can be moved forward (for push backoff), sleeping for real otherwise. */
function movableClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: systemClock.sleep,
    advance(ms: number) {
      offset += ms;
    },
  };
}

describe('push and bidirectional syncs', () => {
  let h: SyncHarness & { service: SyncService };
  let source: MemorySource;
  const clock = movableClock();

  beforeEach(async () => {
    h = await serviceHarness(dialects[0]!, { clock });
    source = new MemorySource();
    for (const id of ['a', 'b', 'c']) source.put(id, { name: `name ${id}`, score: 1 });
  });
  afterEach(async () => h?.cleanup());

  async function define(options: { conflicts?: ConflictPolicy; volatile?: string[] } = {}) {
    await h.service.define(
      source.sync({
        push: (_ctx, changes) => source.push(changes),
        ...(options.conflicts && { conflicts: options.conflicts }),
        ...(options.volatile && { volatile: options.volatile }),
      }),
    );
    await h.service.start({ schedule: false });
    await h.service.runNow('people');
  }

  const stored = async (id: string) => JSON.parse((await h.stores.records.get('people', id))!.data);
  const write = (id: string, fields: Record<string, unknown>) =>
    h.stores.records.get('people', id).then((r) => ({ data: { ...JSON.parse(r!.data), ...fields } }));

  it('pushes a local write and does not take it for a new change when it reads back (echo)', async () => {
    await define();
    const result = await h.service.write('people', [await write('a', { name: 'local' })]);
    expect(result.accepted).toHaveLength(1);
    expect((await h.service.status('people')).pendingChanges).toBe(1);
    const run = await h.service.runNow('people');
    expect(run).toMatchObject({ status: 'succeeded', counts: { pushed: 1, pushFailed: 0 } });
    expect(source.records.get('a')!.name).toBe('local');
    expect(await stored('a')).toEqual(source.records.get('a'));
    const before = (await h.events('people')).length;
    // The source reports our write as a change (its updatedAt moved): a fetch reads it back.
    const again = await h.service.runNow('people', { mode: 'full' });
    expect(again).toMatchObject({ counts: { updated: 0, conflicts: 0 } });
    expect(await h.events('people')).toHaveLength(before);
    const local = (await h.events('people')).filter((e) => e.body.origin === 'local');
    expect(local.map((e) => [e.type, e.body.id])).toEqual([['people.record.updated', 'a']]);
  });

  it('recognises its own write by the hash without volatile fields when push returns nothing', async () => {
    source.returnRecords = false;
    await define({ volatile: ['updatedAt'] });
    await h.service.write('people', [await write('b', { name: 'mine' })]);
    await h.service.runNow('people');
    const run = await h.service.runNow('people');
    expect(run).toMatchObject({ counts: { updated: 0, conflicts: 0 } });
    expect((await h.service.changes('people', { limit: 10 }))[0]).toMatchObject({ status: 'pushed' });
  });

  it('applies the successes of a batch and keeps each failure: refused for good, or retried later', async () => {
    await define();
    source.failures.set('b', 'always');
    source.failures.set('c', 'once');
    await h.service.write('people', [
      await write('a', { name: 'A2' }),
      await write('b', { name: 'B2' }),
      await write('c', { name: 'C2' }),
    ]);
    const run = await h.service.runNow('people');
    expect(run).toMatchObject({ counts: { pushed: 1, pushFailed: 2 } });
    expect((await stored('a')).name).toBe('A2');
    expect((await stored('b')).name).toBe('name b');
    const changes = await h.service.changes('people', { limit: 10 });
    const byId = new Map(changes.filter((c) => c.status !== 'superseded').map((c) => [c.externalId, c]));
    expect(byId.get('b')).toMatchObject({ status: 'failed', lastError: 'name is refused', attempts: 1 });
    expect(byId.get('c')).toMatchObject({ status: 'pending', attempts: 1 });
    expect((await h.service.status('people')).health.reasons.join()).toMatch(
      /1 local changes failed to push/,
    );
    // Not before its backoff…
    expect(await h.service.runNow('people')).toMatchObject({ counts: { pushed: 0 } });
    clock.advance(31_000);
    expect(await h.service.runNow('people')).toMatchObject({ counts: { pushed: 1 } });
    expect(source.records.get('c')!.name).toBe('C2');
  });

  it('refuses writes that do not fit the schema, naming the record and field, and writes nothing', async () => {
    await define();
    await expect(
      h.service.write('people', [
        await write('a', { name: 'ok' }),
        { data: { id: 'x', name: 5, updatedAt: 1 } },
      ]),
    ).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(/^records\[1\]\.data\.name: /),
    });
    expect((await h.service.status('people')).pendingChanges).toBe(0);
  });

  it('writes a repeated request (same idempotency key) once', async () => {
    await define();
    const change = await write('a', { name: 'once' });
    const first = await h.service.write('people', [change], { idempotencyKey: 'req-1' });
    const second = await h.service.write('people', [change], { idempotencyKey: 'req-1' });
    expect(first.accepted).toHaveLength(1);
    expect(second).toMatchObject({ accepted: [], repeated: ['a'] });
  });

  describe('conflicts (both sides changed a record since the last sync)', () => {
    async function conflict(
      policy: ConflictPolicy,
      localFields: Record<string, unknown>,
      sourceFields: Record<string, unknown>,
    ) {
      await define({ conflicts: policy });
      await h.service.write('people', [await write('a', localFields)]);
      source.put('a', sourceFields);
      return h.service.runNow('people');
    }

    it('source-wins: the source version stands, the local change is dropped', async () => {
      const run = await conflict({ strategy: 'source-wins' }, { name: 'local' }, { name: 'remote' });
      expect(run).toMatchObject({ counts: { conflicts: 1, pushed: 0 } });
      expect(source.records.get('a')!.name).toBe('remote');
      expect((await stored('a')).name).toBe('remote');
    });

    it('local-wins: the local change is pushed over the source version', async () => {
      await conflict({ strategy: 'local-wins' }, { name: 'local' }, { name: 'remote' });
      expect(source.records.get('a')!.name).toBe('local');
      expect((await stored('a')).name).toBe('local');
    });

    it('last-writer-wins: the local write wins when it is later than the source by more than the skew', async () => {
      await conflict({ strategy: 'last-writer-wins', skewMs: 1000 }, { name: 'local' }, { name: 'remote' });
      // The source's updatedAt is far in the past (1970): the local write is later.
      expect(source.records.get('a')!.name).toBe('local');
    });

    it('last-writer-wins: the source wins when its change is later (or within the skew)', async () => {
      await define({ conflicts: { strategy: 'last-writer-wins', skewMs: 5000 } });
      await h.service.write('people', [await write('a', { name: 'local' })]);
      source.time = clock.now() + 2000; // within the skew of the local write
      source.put('a', { name: 'remote' });
      await h.service.runNow('people');
      expect(source.records.get('a')!.name).toBe('remote');
    });

    it('field-priority: each overlapping field goes to the side named for it', async () => {
      await conflict(
        { strategy: 'field-priority', fields: { name: 'local' }, default: 'source' },
        { name: 'local', score: 10 },
        { name: 'remote', score: 20 },
      );
      expect(source.records.get('a')).toMatchObject({ name: 'local', score: 20 });
    });

    it('merges changes to different fields without calling it a conflict', async () => {
      const run = await conflict({ strategy: 'manual' }, { name: 'local' }, { score: 99 });
      expect(run).toMatchObject({ counts: { conflicts: 0, pushed: 1 } });
      expect(source.records.get('a')).toMatchObject({ name: 'local', score: 99 });
    });

    it('manual: holds both versions in the queue until a person resolves it', async () => {
      const run = await conflict({ strategy: 'manual' }, { name: 'local' }, { name: 'remote' });
      expect(run).toMatchObject({ counts: { conflicts: 1, pushed: 0 } });
      const [open] = await h.service.conflicts('people', { status: 'open', limit: 10 });
      expect(JSON.parse(open!.localData!).name).toBe('local');
      expect(JSON.parse(open!.sourceData!).name).toBe('remote');
      expect((await h.service.status('people')).conflictsOpen).toBe(1);
      // Another run does not push it, nor queue it twice.
      await h.service.runNow('people');
      expect(source.records.get('a')!.name).toBe('remote');
      const resolved = await h.service.resolveConflict('people', open!.id, 'local');
      expect(resolved).toMatchObject({ status: 'resolved', resolution: 'local' });
      await h.service.runNow('people');
      expect(source.records.get('a')!.name).toBe('local');
      await expect(h.service.resolveConflict('people', open!.id, 'source')).rejects.toThrow(
        /already resolved/,
      );
    });

    it('manual: a merged record chosen by a person is validated and pushed', async () => {
      await conflict({ strategy: 'manual' }, { name: 'local' }, { name: 'remote' });
      const [open] = await h.service.conflicts('people', { status: 'open', limit: 10 });
      const source_ = JSON.parse(open!.sourceData!);
      await expect(
        h.service.resolveConflict('people', open!.id, { data: { ...source_, name: 42 } }),
      ).rejects.toThrow(/^data\.name: /);
      await h.service.resolveConflict('people', open!.id, { data: { ...source_, name: 'both' } });
      await h.service.runNow('people');
      expect(source.records.get('a')!.name).toBe('both');
    });
  });
});
