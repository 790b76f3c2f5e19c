import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { formatKey, generateKey } from '../../src/vault/index.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { LogCapture, openPeerEngine, openTestEngine, type TestEngine } from '../helpers/engine.js';

/**
 * A destination made, changed, enabled, disabled or deleted by one process is used (or not) by another
 * within a second of the other's clock: once its copy of the destinations' rows is that old, routing
 * reads the stored version (and the rows only when it moved). There is no refresh loop; a failed read is
 * logged and counted, and the copy routes meanwhile.
 */
for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`destinations changed by another process, on ${dialect.name}`, () => {
    const env = { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) };
    const config = {
      destinations: [
        {
          id: 'fixed',
          url: 'https://fixed.example.com/hooks',
          events: ['api.fixed.*'],
          secrets: [generateWebhookSecret()],
        },
      ],
    };
    const clock = new FakeClock(Date.now());
    // A's clock does not move: every write of A lands in one millisecond, and must still move the version.
    const aClock = new FakeClock(Date.now());
    const logs = new LogCapture();
    let a: TestEngine;
    let b: Engine;
    let bClose: () => Promise<void>;

    beforeAll(async () => {
      a = await openTestEngine(dialect, config, { env, clock: aClock });
      const peer = await openPeerEngine(a, config, env, { clock, logs });
      b = peer.engine;
      bClose = async () => {
        await peer.app.close();
        await peer.engine.stop();
      };
    });
    afterAll(async () => {
      await bClose?.();
      await a?.close();
    });

    /** The deliveries B makes of an event it stores now: destination id and status, by id. */
    const routedInB = async (type: string) => {
      const event = await b.publish({ type, payload: {} });
      const rows = await a.engine.delivery.list({ eventId: event.id, limit: 10 });
      return Object.fromEntries(rows.map((d) => [d.destinationId, d.status]));
    };
    // The counter alone: a scrape would also ask the health gauges, which read the (absent) table.
    const failures = async () => {
      const metric = b.registry.getSingleMetric('patchbay_destination_revalidation_failures_total');
      const { values } = (await metric?.get()) ?? { values: [] };
      return values.find((v) => v.labels.stage === 'read')?.value ?? 0;
    };

    it('routes to a destination made, changed, disabled and deleted in another process within a second', async () => {
      await a.engine.delivery.destinations.create({
        id: 'peer',
        url: 'https://peer.example.com/hooks',
        events: ['api.order.*'],
        secrets: [generateWebhookSecret()],
      });
      // Within the second B's copy serves without a read; a second later it routes to the new one.
      expect(await routedInB('order.created')).toEqual({});
      await clock.advance(1000);
      expect(await routedInB('order.created')).toEqual({ peer: 'pending' });
      // An admin of B has looked at it: B holds its definition too, which must not route in its place.
      expect((await b.delivery.destinations.list()).map((d) => d.id).sort()).toEqual(['fixed', 'peer']);

      await a.engine.delivery.destinations.update('peer', { events: ['api.invoice.*'] });
      await clock.advance(1000);
      expect(await routedInB('order.created')).toEqual({});
      expect(await routedInB('invoice.paid')).toEqual({ peer: 'pending' });

      // Disabled in A: B records its deliveries as failed (kept for a recovery), then enabled again.
      await a.engine.delivery.destinations.disable('peer', 'maintenance');
      await a.engine.delivery.destinations.disable('fixed', 'maintenance');
      await clock.advance(1000);
      expect(await routedInB('invoice.paid')).toEqual({ peer: 'failed' });
      expect(await routedInB('fixed.thing')).toEqual({ fixed: 'failed' });
      await a.engine.delivery.destinations.enable('peer');
      await a.engine.delivery.destinations.enable('fixed');
      await clock.advance(1000);
      expect(await routedInB('invoice.paid')).toEqual({ peer: 'pending' });
      expect(await routedInB('fixed.thing')).toEqual({ fixed: 'pending' });

      await a.engine.delivery.destinations.delete('peer');
      await clock.advance(1000);
      expect(await routedInB('invoice.paid')).toEqual({});
      expect((await b.delivery.destinations.list()).map((d) => d.id)).toEqual(['fixed']);
    });

    it('sees two writes of one millisecond (the version moves by each)', async () => {
      await a.engine.delivery.destinations.disable('fixed', 'first');
      await clock.advance(1000);
      expect(await routedInB('fixed.thing')).toEqual({ fixed: 'failed' });
      // Enabled within the millisecond A disabled it in: the row's updated_at moves on by one.
      const before = await a.db.db
        .selectFrom('destinations')
        .select('updated_at')
        .where('id', '=', 'fixed')
        .executeTakeFirstOrThrow();
      await a.engine.delivery.destinations.enable('fixed');
      await clock.advance(1000);
      expect(await routedInB('fixed.thing')).toEqual({ fixed: 'pending' });
      const after = await a.db.db
        .selectFrom('destinations')
        .select('updated_at')
        .where('id', '=', 'fixed')
        .executeTakeFirstOrThrow();
      expect(Number(after.updated_at)).toBeGreaterThan(Number(before.updated_at));
    });

    it('logs and counts a failed read, and routes with its copy meanwhile', async () => {
      await a.engine.delivery.destinations.create({
        id: 'steady',
        url: 'https://steady.example.com/hooks',
        events: ['api.steady.*'],
        secrets: [generateWebhookSecret()],
      });
      await clock.advance(1000);
      expect(await routedInB('steady.one')).toEqual({ steady: 'pending' });
      const before = await failures();
      // The store stops answering reads of destinations (the table is away for a moment).
      await sql`alter table destinations rename to destinations_away`.execute(a.db.db);
      let away = true;
      try {
        await clock.advance(1000);
        const event = await b.publish({ type: 'steady.two', payload: {} });
        expect(await failures()).toBe(before + 1);
        expect(logs.text).toContain('reading the destinations other processes made or changed failed');
        // Tried again a second later, not by every transaction.
        const again = await b.publish({ type: 'steady.three', payload: {} });
        expect(await failures()).toBe(before + 1);
        await sql`alter table destinations_away rename to destinations`.execute(a.db.db);
        away = false;
        // The copy routed both events (the event and its deliveries committed together).
        for (const id of [event.id, again.id]) {
          const rows = await a.engine.delivery.list({ eventId: id, limit: 10 });
          expect(rows.map((d) => d.destinationId)).toEqual(['steady']);
        }
      } finally {
        if (away) await sql`alter table destinations_away rename to destinations`.execute(a.db.db);
      }
      await a.engine.delivery.destinations.delete('steady');
      await clock.advance(1000);
      expect(await routedInB('steady.four')).toEqual({});
    });
  });
}
