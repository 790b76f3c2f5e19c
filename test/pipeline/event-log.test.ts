import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import type { Database } from '../../src/store/database.js';
import type { NewEvent } from '../../src/store/event-store.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { EventPipeline } from '../../src/webhooks/pipeline.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

function event(source: string, externalId: string, at: number, type = 'thing.happened'): NewEvent {
  return {
    id: newId('evt', at),
    source,
    externalId,
    type,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ externalId })),
    contentType: 'application/json',
    requestId: null,
    verification: 'github',
    receivedAt: at,
    occurredAt: null,
  };
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`event log on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    let clock: FakeClock;
    let pipeline: EventPipeline;

    beforeAll(async () => {
      ({ database, cleanup } = await migratedDatabase(dialect));
    });
    afterAll(async () => cleanup?.());
    beforeEach(async () => {
      await database.db.deleteFrom('events').execute();
      clock = new FakeClock();
      pipeline = new EventPipeline({ database, clock });
    });

    it('stores an event once however often the sender repeats it, counting the repeats', async () => {
      const first = await pipeline.ingest([event('gh', 'delivery-1', clock.now())]);
      expect(first).toEqual([{ id: expect.stringMatching(/^evt_/), duplicate: false }]);
      const again = await pipeline.ingest([event('gh', 'delivery-1', clock.now())]);
      const third = await pipeline.ingest([event('gh', 'delivery-1', clock.now())]);
      expect(again).toEqual([{ id: first[0]!.id, duplicate: true }]);
      expect(third[0]!.id).toBe(first[0]!.id);
      const stored = await pipeline.store.get(first[0]!.id);
      expect(stored?.duplicates).toBe(2);
      expect(await pipeline.store.list({ limit: 10 })).toHaveLength(1);
      // The same id from another source is another event.
      expect((await pipeline.ingest([event('crm', 'delivery-1', clock.now())]))[0]!.duplicate).toBe(false);
    });

    it('dedupes concurrent repeats that land in the same group commit', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => pipeline.ingest([event('gh', `k${i % 5}`, clock.now())])),
      );
      const flat = results.flat();
      expect(flat.filter((r) => !r.duplicate)).toHaveLength(5);
      expect(new Set(flat.map((r) => r.id)).size).toBe(5);
      const all = await pipeline.store.list({ limit: 100 });
      expect(all).toHaveLength(5);
      expect(all.reduce((sum, e) => sum + e.duplicates, 0)).toBe(45);
    });

    it('keeps raw bytes exactly', async () => {
      const bytes = Buffer.from([0xff, 0x00, 0x7b, 0x22, 0xc3, 0x28]);
      const e = { ...event('gh', 'raw', clock.now()), body: bytes };
      await pipeline.ingest([e]);
      expect((await pipeline.store.get(e.id))?.body.equals(bytes)).toBe(true);
    });

    it('publishes with an idempotency key returning the original event', async () => {
      const a = await pipeline.publish({
        type: 'order.created',
        payload: { n: 1 },
        idempotencyKey: 'order-1',
      });
      const b = await pipeline.publish({
        type: 'order.created',
        payload: { n: 2 },
        idempotencyKey: 'order-1',
      });
      expect(b).toEqual({ id: a.id, duplicate: true });
      const c = await pipeline.publish({ type: 'order.created', payload: { n: 3 } });
      expect(c.duplicate).toBe(false);
      const stored = await pipeline.store.get(a.id);
      expect(JSON.parse(stored!.body.toString())).toEqual({ n: 1 });
      expect(stored?.source).toBe('api');
      await expect(pipeline.publish({ type: 'bad type!', payload: 1 })).rejects.toThrow(/type must be/);
    });

    it('lists by source, type prefix and time with cursor paging', async () => {
      for (let i = 0; i < 7; i++) {
        await pipeline.ingest([
          event(i % 2 ? 'gh' : 'crm', `e${i}`, clock.now(), i < 4 ? 'contact.created' : 'deal.updated'),
        ]);
        await clock.advance(1000);
      }
      const crm = await pipeline.store.list({ source: 'crm', limit: 10 });
      expect(crm.map((e) => e.externalId)).toEqual(['e0', 'e2', 'e4', 'e6']);
      const contacts = await pipeline.store.list({ type: 'contact.*', limit: 10 });
      expect(contacts.map((e) => e.externalId)).toEqual(['e0', 'e1', 'e2', 'e3']);
      const since = await pipeline.store.list({ since: clock.now() - 2500, limit: 10 });
      expect(since.map((e) => e.externalId)).toEqual(['e5', 'e6']);
      const page1 = await pipeline.store.list({ limit: 3 });
      expect(page1).toHaveLength(4);
      const page2 = await pipeline.store.list({ limit: 3, after: page1[2]!.id });
      expect(page2.map((e) => e.externalId)).toEqual(['e3', 'e4', 'e5', 'e6']);
    });

    it('prunes events past retention, which frees their dedupe keys', async () => {
      const short = new EventPipeline({ database, clock, retentionMs: 60_000 });
      await short.ingest([event('gh', 'old', clock.now())]);
      await clock.advance(30_000);
      await short.ingest([event('gh', 'new', clock.now())]);
      await clock.advance(31_000);
      expect(await short.prune()).toBe(1);
      expect((await short.store.list({ limit: 10 })).map((e) => e.externalId)).toEqual(['new']);
    });

    it('prunes a source with a retention of its own apart, with the deliveries of pruned events', async () => {
      const pipe = new EventPipeline({
        database,
        clock,
        retentionMs: 60_000,
        retentionBySource: () => new Map([['brief', 10_000]]),
      });
      const [kept, gone] = [event('long', 'l1', clock.now()), event('brief', 'b1', clock.now())];
      await pipe.ingest([kept, gone]);
      const now = clock.now();
      await database.db
        .insertInto('deliveries')
        .values({
          id: 'dlv_pruned',
          event_id: gone.id,
          destination_id: 'app',
          status: 'succeeded',
          attempts: 1,
          cycle_attempts: 1,
          next_attempt_at: null,
          last_status: 200,
          last_error: null,
          failing_notified: 0,
          manual: 0,
          created_at: now,
          updated_at: now,
          succeeded_at: now,
        })
        .execute();
      await clock.advance(20_000);
      expect(await pipe.prune()).toBe(1);
      expect(await pipe.store.findByExternalId('brief', 'b1')).toBeUndefined();
      expect(await pipe.store.findByExternalId('long', 'l1')).toBeDefined();
      const left = await database.db
        .selectFrom('deliveries')
        .select('id')
        .where('id', '=', 'dlv_pruned')
        .execute();
      expect(left).toEqual([]);
    });

    it('stores each key once when many concurrent requests repeat keys in any order', async () => {
      // On PostgreSQL several group-commit transactions run at once: overlapping keys must neither
      // deadlock nor be stored twice nor both be reported new.
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      const requests = Array.from({ length: 200 }, (_, r) => {
        const pick = [keys[(r * 7) % 40]!, keys[(r * 13 + 5) % 40]!, keys[(r * 3 + 11) % 40]!];
        return pick.map((k) => event('race', k, clock.now()));
      });
      const outcomes = (await Promise.all(requests.map((events) => pipeline.ingest(events)))).flat();
      const fresh = outcomes.filter((o) => !o.duplicate);
      expect(fresh).toHaveLength(40);
      const stored = await pipeline.store.list({ source: 'race', limit: 100 });
      expect(stored).toHaveLength(40);
      expect(stored.reduce((n, e) => n + e.duplicates, 0)).toBe(200 * 3 - 40);
      // Every duplicate points at the stored original.
      const ids = new Set(stored.map((e) => e.id));
      for (const o of outcomes) expect(ids.has(o.id)).toBe(true);
    });

    it('routes only new events, inside the storing transaction', async () => {
      const routed: string[] = [];
      const pipeline = new EventPipeline({
        database,
        clock,
        route: async (tx, events) => {
          routed.push(...events.map((e) => e.externalId));
          if (events.some((e) => e.externalId === 'explode')) throw new Error('router failed');
          await tx.db.selectFrom('events').select('id').execute();
        },
      });
      await pipeline.ingest([event('gh', 'a', clock.now()), event('gh', 'b', clock.now())]);
      await pipeline.ingest([event('gh', 'a', clock.now())]);
      expect(routed).toEqual(['a', 'b']);
      await expect(pipeline.ingest([event('gh', 'explode', clock.now())])).rejects.toThrow('router failed');
      expect(await pipeline.store.findByExternalId('gh', 'explode')).toBeUndefined();
    });
  });
}
