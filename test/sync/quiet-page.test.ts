import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { defineSync } from '../../src/sync/index.js';
import { dialects } from '../helpers/databases.js';
import { type SyncHarness, storedRecords, syncHarness } from './helpers.js';

const schema = {
  safeParse: (v: unknown) => ({ success: true as const, data: v as Record<string, unknown> }),
};

describe('quiet pages', () => {
  let h: SyncHarness;
  afterEach(async () => h?.cleanup());

  it('an unchanged pass writes no record, and a change among quiet pages still commits with its event', async () => {
    h = await syncHarness(dialects[0]!);
    const source = new Map(Array.from({ length: 50 }, (_, i) => [`r${i}`, { id: `r${i}`, v: 1 }]));
    const sync = defineSync({
      id: 'quiet',
      key: 'id',
      schema,
      // Every incremental read lists everything again (a source without a modified-since filter).
      async *fetch() {
        const all = [...source.values()];
        for (let i = 0; i < all.length; i += 10) yield { records: all.slice(i, i + 10), checkpoint: i };
      },
    });
    await h.stores.state.ensure([sync.id], Date.now());
    expect(await h.runner.run(sync, { trigger: 'manual' })).toMatchObject({ counts: { created: 50 } });
    const rows = () =>
      sql<{ external_id: string; last_seen_at: number; revision: number }>`
        select external_id, last_seen_at, revision from sync_records order by external_id`
        .execute(h.database.db)
        .then((r) => r.rows.map((row) => ({ ...row, last_seen_at: Number(row.last_seen_at) })));
    const before = await rows();

    const quiet = await h.runner.run(sync, { trigger: 'manual' });
    expect(quiet).toMatchObject({
      status: 'succeeded',
      counts: { pages: 5, seen: 50, created: 0, updated: 0 },
    });
    expect(await rows()).toEqual(before);

    // A change on the fourth page, after quiet ones: the quiet attempt finds it, rolls back, commits it.
    source.set('r35', { id: 'r35', v: 2 });
    const changed = await h.runner.run(sync, { trigger: 'manual' });
    expect(changed).toMatchObject({ status: 'succeeded', counts: { pages: 5, updated: 1 } });
    expect((await storedRecords(h.stores, 'quiet')).get('r35')).toEqual({ id: 'r35', v: 2 });
    const updates = (await h.events('quiet')).filter((e) => e.type === 'quiet.record.updated');
    expect(updates.map((e) => (e.body as { id: string }).id)).toEqual(['r35']);
    const run = await h.stores.runs.get((changed as { runId: string }).runId);
    expect(run).toMatchObject({ pages: 5, seen: 50, updated: 1 });
    expect(await h.stores.state.require('quiet')).toMatchObject({ checkpoint: 40 });
  });
});
