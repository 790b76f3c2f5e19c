import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isPatchbayError } from '../../src/core/errors.js';
import type { Database } from '../../src/store/database.js';
import { type IncomingRecord, openSyncStores, type SyncStores } from '../../src/store/sync/index.js';
import { LAST_SEEN_GRANULARITY_MS } from '../../src/store/sync/sync-record-store.js';
import { canonicalJson, recordHash } from '../../src/sync/canonical-json.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

const T0 = 1_767_225_600_000;
let seq = 0;
const freshSync = () => `sync-${++seq}`;

function incoming(id: string, data: Record<string, unknown>, volatile: string[] = []): IncomingRecord {
  const text = canonicalJson(data);
  return { id, data: text, hash: recordHash(data, volatile, text), modifiedAt: null };
}

/** The sync stores' contract, on every dialect (SQLite always, PostgreSQL when configured). */
for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`sync stores on ${dialect.name}`, () => {
    let database: Database;
    let second: Database;
    let stores: SyncStores;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await migratedDatabase(dialect);
      database = opened.database;
      // PostgreSQL: a second pool, as a second process would have. SQLite: one writer per process.
      second = dialect.name === 'postgres' ? await opened.testDb.open() : database;
      stores = openSyncStores(database);
      cleanup = async () => {
        if (second !== database) await second.close();
        await opened.cleanup();
      };
    });
    afterAll(async () => cleanup?.());

    async function leased(syncId: string) {
      await stores.state.ensure([syncId], T0);
      const lease = await stores.state.acquire(syncId, 'runner-a', T0, 60_000);
      if (!lease) throw new Error('no lease');
      return lease;
    }

    async function write(syncId: string, records: IncomingRecord[], generation = 0, now = T0) {
      const lease = await leased(syncId).catch(async () => {
        const state = await stores.state.require(syncId);
        return { syncId, owner: 'runner-a', token: state.leaseToken, until: state.lease!.until };
      });
      return database.transaction(async (tx) => {
        const stamp = await stores.state.fence(tx, lease, now, 60_000);
        return stores.records.apply(tx, syncId, records, { stamp, now, generation });
      });
    }

    it('stores new records as created, a reread as nothing, a changed hash as updated with the old data', async () => {
      const sync = freshSync();
      const first = await write(sync, [incoming('1', { name: 'Ada' }), incoming('2', { name: 'Bob' })]);
      expect(first.map((c) => [c.id, c.kind, c.revision])).toEqual([
        ['1', 'created', 1],
        ['2', 'created', 1],
      ]);
      expect(await write(sync, [incoming('1', { name: 'Ada' })])).toEqual([]);
      const [update] = await write(sync, [incoming('1', { name: 'Ada L.' }), incoming('2', { name: 'Bob' })]);
      expect(update).toMatchObject({
        id: '1',
        kind: 'updated',
        revision: 2,
        previousHash: first[0]!.hash,
        previousData: '{"name":"Ada"}',
        data: '{"name":"Ada L."}',
      });
      const stored = await stores.records.get(sync, '1');
      expect(stored).toMatchObject({ revision: 2, deletedAt: null, data: '{"name":"Ada L."}' });
    });

    it('moves updatedAt only when the hash changes, and stamps later commits strictly later', async () => {
      const sync = freshSync();
      await write(sync, [incoming('a', { v: 1 }), incoming('b', { v: 1 })]);
      const before = await stores.records.get(sync, 'a');
      await write(sync, [incoming('a', { v: 1 })], 0, T0 + 5000);
      const reread = await stores.records.get(sync, 'a');
      expect(reread!.updatedAt).toBe(before!.updatedAt);
      // A quiet reread writes nothing: lastSeenAt moves by the hour within a generation, and at once
      // in a new one (a full read marks all it sees).
      expect(reread!.lastSeenAt).toBe(before!.lastSeenAt);
      // (The store itself, without the lease an hour would outlive.)
      const readAgain = async (generation: number, now: number) => {
        await database.transaction((tx) =>
          stores.records.apply(tx, sync, [incoming('a', { v: 1 })], { stamp: now, now, generation }),
        );
        return (await stores.records.get(sync, 'a'))!.lastSeenAt;
      };
      expect(await readAgain(0, T0 + LAST_SEEN_GRANULARITY_MS - 1)).toBe(before!.lastSeenAt);
      expect(await readAgain(0, T0 + LAST_SEEN_GRANULARITY_MS)).toBe(T0 + LAST_SEEN_GRANULARITY_MS);
      expect(await readAgain(1, T0 + LAST_SEEN_GRANULARITY_MS + 1)).toBe(T0 + LAST_SEEN_GRANULARITY_MS + 1);
      // Same wall time: the next commit's stamp is still above the last one.
      await write(sync, [incoming('b', { v: 2 })], 0, T0);
      const b = await stores.records.get(sync, 'b');
      expect(b!.updatedAt).toBeGreaterThan(before!.updatedAt);
    });

    it('tombstones live records once, and a returning record is created again with a new revision', async () => {
      const sync = freshSync();
      const lease = await leased(sync);
      const tx = async <T>(
        fn: (stamp: number, t: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<T>,
      ) => database.transaction(async (t) => fn(await stores.state.fence(t, lease, T0, 60_000), t));
      await tx((stamp, t) =>
        stores.records.apply(t, sync, [incoming('x', { n: 1 })], { stamp, now: T0, generation: 0 }),
      );
      const deleted = await tx((stamp, t) =>
        stores.records.tombstone(t, sync, ['x', 'unknown'], { stamp, now: T0, generation: 0 }),
      );
      expect(deleted.map((c) => [c.id, c.kind, c.revision])).toEqual([['x', 'deleted', 2]]);
      expect(
        await tx((stamp, t) => stores.records.tombstone(t, sync, ['x'], { stamp, now: T0, generation: 0 })),
      ).toEqual([]);
      const back = await tx((stamp, t) =>
        stores.records.apply(t, sync, [incoming('x', { n: 1 })], { stamp, now: T0, generation: 0 }),
      );
      expect(back.map((c) => [c.kind, c.revision])).toEqual([['created', 3]]);
      expect(await stores.records.count(sync)).toBe(1);
    });

    it('sweeps only live records not seen since the generation began, in batches', async () => {
      const sync = freshSync();
      await write(sync, [incoming('1', { a: 1 }), incoming('2', { a: 1 }), incoming('3', { a: 1 })], 1);
      // Generation 2 sees 1 (unchanged) and 3 (changed); 2 is not seen.
      await write(sync, [incoming('1', { a: 1 }), incoming('3', { a: 2 })], 2);
      expect(await stores.records.countUnseen(sync, 2)).toBe(1);
      const state = await stores.state.require(sync);
      const lease = { syncId: sync, owner: 'runner-a', token: state.leaseToken, until: T0 + 60_000 };
      const swept = await database.transaction(async (tx) => {
        const stamp = await stores.state.fence(tx, lease, T0, 60_000);
        return stores.records.sweep(tx, sync, 2, { stamp, now: T0, generation: 2 }, 10);
      });
      expect(swept.map((c) => c.id)).toEqual(['2']);
      expect(await stores.records.countUnseen(sync, 2)).toBe(0);
    });

    it('pages records by (updatedAt, id) without missing or repeating any', async () => {
      const sync = freshSync();
      const ids = Array.from({ length: 25 }, (_, i) => String(i).padStart(3, '0'));
      for (let i = 0; i < ids.length; i += 10) {
        await write(
          sync,
          ids.slice(i, i + 10).map((id) => incoming(id, { id })),
        );
      }
      const seen: string[] = [];
      let after: { updatedAt: number; id: string } | undefined;
      for (;;) {
        const rows = await stores.records.list(sync, { limit: 7, ...(after && { after }) });
        const page = rows.slice(0, 7);
        seen.push(...page.map((r) => r.id));
        if (rows.length <= 7) break;
        after = { updatedAt: page.at(-1)!.updatedAt, id: page.at(-1)!.id };
      }
      expect(seen).toEqual(ids);
      const first = await stores.records.get(sync, ids[9]!);
      const later = await stores.records.list(sync, { modifiedAfter: first!.updatedAt, limit: 100 });
      expect(later.map((r) => r.id)).toEqual(ids.slice(10));
    });

    it('grants a lease to one runner at a time, bumping the fencing token, and again once it expires', async () => {
      const sync = freshSync();
      await stores.state.ensure([sync], T0);
      const other = openSyncStores(second);
      const attempts = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? stores : other).state.acquire(sync, `runner-${i}`, T0, 30_000),
        ),
      );
      const winners = attempts.filter((l) => l !== undefined);
      expect(winners).toHaveLength(1);
      expect(await stores.state.acquire(sync, 'late', T0 + 29_999, 30_000)).toBeUndefined();
      const next = await other.state.acquire(sync, 'late', T0 + 30_001, 30_000);
      expect(next!.token).toBe(winners[0]!.token + 1);
    });

    it('refuses a commit under a lost lease: nothing of the transaction is written', async () => {
      const sync = freshSync();
      await stores.state.ensure([sync], T0);
      const stale = (await stores.state.acquire(sync, 'a', T0, 1000))!;
      // a is paused past its lease; b takes over.
      const fresh = (await stores.state.acquire(sync, 'b', T0 + 1500, 1000))!;
      const attempt = database.transaction(async (tx) => {
        await stores.records.apply(tx, sync, [incoming('k', { stale: true })], {
          stamp: T0,
          now: T0,
          generation: 0,
        });
        await stores.state.fence(tx, stale, T0 + 1600, 1000, { checkpoint: { page: 9 } });
      });
      await expect(attempt).rejects.toSatisfy((err: unknown) => isPatchbayError(err, ErrorCode.LEASE_LOST));
      expect(await stores.records.get(sync, 'k')).toBeUndefined();
      expect((await stores.state.require(sync)).checkpoint).toBeUndefined();
      expect(await stores.state.renew(stale, T0 + 1600, 1000)).toBe(false);
      // An expired lease nobody took is lost too: the holder must stop, not commit late.
      expect(await stores.state.renew(fresh, T0 + 2600, 1000)).toBe(false);
    });

    it('commits the checkpoint with the fence and keeps the earliest request and a full read asked for over an incremental one', async () => {
      const sync = freshSync();
      const lease = await leased(sync);
      await database.transaction(async (tx) => {
        await stores.state.fence(tx, lease, T0, 60_000, { checkpoint: { after: 'p2' } });
      });
      expect((await stores.state.require(sync)).checkpoint).toEqual({ after: 'p2' });
      await stores.state.request(sync, 'full', 'manual', T0);
      await stores.state.request(sync, 'incremental', 'event', T0 + 1);
      // A later request (a burst of debounced trigger events) does not push the earlier one back.
      expect((await stores.state.require(sync)).requested).toEqual({
        at: T0,
        mode: 'full',
        trigger: 'event',
      });
      await expect(stores.state.request('nope', 'full', 'manual', T0)).rejects.toThrow(/no sync nope/);
    });

    it('keeps one pending change per record, carrying the first base, and skips repeated keys', async () => {
      const sync = freshSync();
      const add = (id: string, key: string, data: string, baseHash: string | null) =>
        database.transaction((tx) =>
          stores.changes.add(
            tx,
            sync,
            [{ id, externalId: 'r1', data, baseData: baseHash && '{"v":0}', baseHash, idempotencyKey: key }],
            T0,
          ),
        );
      expect([...(await add('chg_1', 'k1', '{"v":1}', 'h0'))]).toEqual(['chg_1']);
      expect([...(await add('chg_2', 'k2', '{"v":2}', 'h1'))]).toEqual(['chg_2']);
      expect([...(await add('chg_3', 'k1', '{"v":9}', 'h9'))]).toEqual([]);
      const pending = await stores.changes.pendingFor(undefined, sync, ['r1']);
      expect(pending.get('r1')).toMatchObject({ id: 'chg_2', data: '{"v":2}', baseHash: 'h0' });
      expect((await stores.changes.get('chg_1'))!.status).toBe('superseded');
    });
  });
}
