import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { formatKey, generateKey } from '../../src/vault/index.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { adminApi, openPeerEngine, openTestEngine, type TestEngine } from '../helpers/engine.js';
import { Receiver } from '../helpers/receiver.js';

const TOKEN = 'destinations-admin-token-0123456789';
const _auth = { authorization: `Bearer ${TOKEN}` };

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`destinations through the admin API on ${dialect.name}`, () => {
    const env = { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) };
    const secret = generateWebhookSecret();
    const headerValue = `Bearer downstream-${Math.random().toString(36).slice(2)}`;
    const config = {
      server: { adminToken: TOKEN },
      destinations: [
        { id: 'fixed', url: 'https://fixed.example.com/hooks', events: ['nothing.*'], secrets: [secret] },
      ],
      delivery: { allowedNetworks: ['127.0.0.0/8'] },
    };
    let receiver: Receiver;
    let t: TestEngine;
    let other: { engine: Engine; app: FastifyInstance };
    /** The other process's clock: its copy of the destinations is a second old when this says so. */
    const otherClock = new FakeClock(Date.now());

    beforeAll(async () => {
      receiver = await new Receiver([secret]).start();
      t = await openTestEngine(dialect, config, { env });
      other = await openPeerEngine(t, config, env, { clock: otherClock });
    });
    afterAll(async () => {
      await other?.app.close();
      await other?.engine.stop();
      await t?.close();
      await receiver?.stop();
    });

    const api = (...args: Parameters<ReturnType<typeof adminApi>>) => adminApi(t.app, TOKEN)(...args);

    it('creates a destination that delivers signed events, with its secret and headers sealed and never shown', async () => {
      const created = await api('POST', '/destinations', {
        id: 'app',
        url: receiver.url,
        secrets: [secret],
        events: ['api.order.*'],
        headers: { authorization: headerValue },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        id: 'app',
        origin: 'api',
        secrets: 1,
        headers: ['authorization'],
      });
      expect(created.body).not.toContain(secret);
      expect(created.body).not.toContain(headerValue);

      // Published in the other process within the second its copy of the destinations is fresh: not
      // routed to it yet. A second later routing reads the stored version and the rows, and the other
      // process's worker loads the definition (secrets included) when it sends.
      const early = await other.engine.publish({ type: 'order.created', payload: { n: 0 } });
      expect(await t.engine.delivery.list({ eventId: early.id, limit: 10 })).toEqual([]);
      await otherClock.advance(1000);
      const event = await other.engine.publish({ type: 'order.created', payload: { n: 1 } });
      const [delivery] = await t.engine.delivery.list({ eventId: event.id, limit: 10 });
      expect(delivery?.destinationId).toBe('app');
      expect(await other.engine.delivery.attempt(delivery!.id, new AbortController().signal)).toBeUndefined();
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]!.verifiedWith).toBe(0);
      expect(receiver.received[0]!.headers.authorization).toBe(headerValue);

      const row = await t.db.db
        .selectFrom('destinations')
        .selectAll()
        .where('id', '=', 'app')
        .executeTakeFirstOrThrow();
      expect(row.secrets).toMatch(/^pb1\./);
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(JSON.stringify(row)).not.toContain(headerValue);
      const listed = await api('GET', '/destinations');
      expect(
        listed
          .json()
          .data.map((d: { id: string }) => d.id)
          .sort(),
      ).toEqual(['app', 'fixed']);
      expect(listed.body).not.toContain(secret);
      expect(t.logs.text).not.toContain(secret);
    });

    it('changes filters with PATCH, keeping the sealed secret', async () => {
      const patched = await api('PATCH', '/destinations/app', { events: ['api.invoice.*'] });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toMatchObject({ events: ['api.invoice.*'], secrets: 1 });
      const order = await t.engine.publish({ type: 'order.created', payload: {} });
      const invoice = await t.engine.publish({ type: 'invoice.paid', payload: {} });
      expect(await t.engine.delivery.list({ eventId: order.id, limit: 10 })).toEqual([]);
      expect(await t.engine.delivery.list({ eventId: invoice.id, limit: 10 })).toHaveLength(1);
    });

    it('refuses private addresses, plain http, bad secrets, duplicates and changes to configured destinations', async () => {
      const cases: [Record<string, unknown>, number, RegExp][] = [
        [
          { id: 'meta', url: 'https://169.254.169.254/latest' },
          400,
          /169\.254\.169\.254|blocked|private|link-local/i,
        ],
        [{ id: 'lan', url: 'https://[::ffff:10.0.0.1]/x' }, 400, /./],
        [{ id: 'plain', url: 'http://203.0.113.5/hooks' }, 400, /blocked|http/i],
        [{ id: 'badsecret', url: 'https://app.example.com/hooks', secrets: ['not-whsec'] }, 400, /whsec_/],
        [{ id: 'x', url: 'https://app.example.com/hooks', colour: 'blue' }, 400, /unknown field "colour"/],
        [{ id: 'app', url: 'https://app.example.com/hooks' }, 409, /already exists/],
        [{ id: 'fixed', url: 'https://app.example.com/hooks' }, 409, /already exists/],
      ];
      for (const [body, status, message] of cases) {
        const res = await api('POST', '/destinations', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(status);
        expect(res.json().error.message, JSON.stringify(body)).toMatch(message);
      }
      expect((await api('DELETE', '/destinations/fixed')).statusCode).toBe(409);
      expect((await api('PATCH', '/destinations/fixed', { events: ['a.*'] })).statusCode).toBe(409);
    });

    it("applies another process's change or deletion at its next attempt, whatever its copy's age", async () => {
      const second = await new Receiver([secret]).start();
      try {
        expect(
          (
            await api('POST', '/destinations', {
              id: 'moving',
              url: receiver.url,
              secrets: [secret],
              events: ['api.move.*'],
            })
          ).statusCode,
        ).toBe(201);
        await otherClock.advance(1000);
        // The other process delivers once, so it holds the definition in its cache.
        const attemptInOther = async (type: string) => {
          const event = await other.engine.publish({ type, payload: {} });
          const [delivery] = await other.engine.delivery.list({ eventId: event.id, limit: 10 });
          await other.engine.delivery.attempt(delivery!.id, new AbortController().signal);
          return (await other.engine.delivery.get(delivery!.id))!;
        };
        const before = receiver.received.length;
        expect((await attemptInOther('move.first')).status).toBe('succeeded');
        expect(receiver.received.length).toBe(before + 1);

        // Moved by this process: the other one sends its next attempts to the new URL (that the
        // attempts finding it stale together read it once is destination-registry.test.ts's).
        expect((await api('PATCH', '/destinations/moving', { url: second.url })).statusCode).toBe(200);
        const moved = await Promise.all(['move.second', 'move.third'].map(attemptInOther));
        expect(moved.map((d) => d.status)).toEqual(['succeeded', 'succeeded']);
        expect(second.received).toHaveLength(2);
        expect(receiver.received.length).toBe(before + 1);

        // Deleted by this process with a delivery pending in the other: dead-lettered, not sent.
        const event = await other.engine.publish({ type: 'move.fourth', payload: {} });
        const [pending] = await other.engine.delivery.list({ eventId: event.id, limit: 10 });
        expect((await api('DELETE', '/destinations/moving')).statusCode).toBe(204);
        await other.engine.delivery.attempt(pending!.id, new AbortController().signal);
        expect(await other.engine.delivery.get(pending!.id)).toMatchObject({
          status: 'failed',
          lastError: 'destination no longer exists',
        });
        expect(second.received).toHaveLength(2);
      } finally {
        await second.stop();
      }
    });

    it('deletes a destination: no new deliveries, and pending ones are dead-lettered', async () => {
      const pending = await t.engine.publish({ type: 'invoice.sent', payload: {} });
      expect((await api('DELETE', '/destinations/app')).statusCode).toBe(204);
      expect((await api('DELETE', '/destinations/app')).statusCode).toBe(404);
      const [delivery] = await t.engine.delivery.list({ eventId: pending.id, limit: 10 });
      await t.engine.delivery.attempt(delivery!.id, new AbortController().signal);
      expect((await t.engine.delivery.get(delivery!.id))?.status).toBe('failed');
      const later = await t.engine.publish({ type: 'invoice.paid', payload: {} });
      expect(await t.engine.delivery.list({ eventId: later.id, limit: 10 })).toEqual([]);
    });
  });
}
