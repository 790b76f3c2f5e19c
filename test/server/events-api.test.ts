import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';

const TOKEN = 'events-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const SECRET = 'events-api-github-secret';

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`events API on ${dialect.name}`, () => {
    let t: TestEngine;
    beforeAll(async () => {
      t = await openTestEngine(dialect, {
        server: { adminToken: TOKEN },
        sources: [{ id: 'gh', verify: { scheme: 'github', secrets: [SECRET] } }],
      });
    });
    afterAll(async () => t?.close());

    it('publishes an event, and an idempotency key returns the original', async () => {
      const first = await t.app.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: auth,
        payload: { type: 'order.created', payload: { total: 5 }, idempotencyKey: 'o-1' },
      });
      expect(first.statusCode).toBe(201);
      const again = await t.app.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: auth,
        payload: { type: 'order.created', payload: { total: 6 }, idempotencyKey: 'o-1' },
      });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ id: first.json().id, duplicate: true });
      const shown = await t.app.inject({ url: `/api/v1/events/${first.json().id}`, headers: auth });
      expect(shown.json()).toMatchObject({
        source: 'api',
        type: 'order.created',
        payload: { total: 5 },
        duplicates: 1,
      });
    });

    it('publishes as source api only: a webhook source or patchbay cannot be impersonated, nor its dedupe pre-empted', async () => {
      const publish = (payload: Record<string, unknown>) =>
        t.app.inject({ method: 'POST', url: '/api/v1/events', headers: auth, payload });
      for (const source of ['gh', 'patchbay', 'crm']) {
        const res = await publish({ type: 'push', source, idempotencyKey: 'delivery-42' });
        expect(res.statusCode, source).toBe(400);
        expect(res.json().error.message).toMatch(
          /^source: events published through the API have source "api"/,
        );
      }
      await expect(t.engine.publish({ type: 'x', payload: null, source: 'gh' })).rejects.toThrow(
        /source "gh" is reserved/,
      );
      await expect(t.engine.publish({ type: 'x', payload: null, source: 'patchbay' })).rejects.toThrow(
        /reserved/,
      );
      // The same key under "api" is another namespace: the signed webhook with that delivery id is stored.
      expect((await publish({ type: 'push', idempotencyKey: 'delivery-42', source: 'api' })).statusCode).toBe(
        201,
      );
      const body = JSON.stringify({ ref: 'main' });
      const webhook = await t.app.inject({
        method: 'POST',
        url: '/webhooks/gh',
        headers: {
          'content-type': 'application/json',
          'x-github-delivery': 'delivery-42',
          'x-github-event': 'push',
          'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
        payload: body,
      });
      expect(webhook.json()).toEqual({ received: 1, duplicates: 0 });
    });

    it('rejects bad publish input with a 400 naming the field', async () => {
      const noType = await t.app.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: auth,
        payload: { payload: 1 },
      });
      expect(noType.statusCode).toBe(400);
      expect(noType.json().error.message).toMatch(/type/);
      const badType = await t.app.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: auth,
        payload: { type: 'a b' },
      });
      expect(badType.statusCode).toBe(400);
      expect(badType.json().error.message).toMatch(/^type must be/);
    });

    it('lists with filters and cursor pages, and 404s an unknown id', async () => {
      for (let i = 0; i < 5; i++) {
        await t.engine.publish({ type: i % 2 ? 'deal.won' : 'contact.new', payload: { i }, source: 'crm' });
      }
      const page1 = await t.app.inject({ url: '/api/v1/events?source=crm&limit=2', headers: auth });
      expect(page1.json().data).toHaveLength(2);
      const cursor = page1.json().nextCursor;
      expect(cursor).toBeTypeOf('string');
      const page2 = await t.app.inject({
        url: `/api/v1/events?source=crm&limit=10&cursor=${cursor}`,
        headers: auth,
      });
      expect(page2.json().data).toHaveLength(3);
      expect(page2.json().nextCursor).toBeUndefined();
      const contacts = await t.app.inject({ url: '/api/v1/events?source=crm&type=contact.*', headers: auth });
      expect(contacts.json().data.map((e: { type: string }) => e.type)).toEqual([
        'contact.new',
        'contact.new',
        'contact.new',
      ]);
      const badSince = await t.app.inject({ url: '/api/v1/events?since=yesterday', headers: auth });
      expect(badSince.statusCode).toBe(400);
      const lastDay = await t.app.inject({ url: '/api/v1/events?since=1d&limit=500', headers: auth });
      expect(lastDay.json().data.length).toBeGreaterThan(0);
      const future = new Date(t.engine.clock.now() + 60_000).toISOString();
      const none = await t.app.inject({ url: `/api/v1/events?since=${future}`, headers: auth });
      expect(none.json().data).toEqual([]);
      const badCursor = await t.app.inject({ url: '/api/v1/events?cursor=%%%', headers: auth });
      expect(badCursor.statusCode).toBe(400);
      const missing = await t.app.inject({ url: '/api/v1/events/evt_nope', headers: auth });
      expect(missing.statusCode).toBe(404);
    });
  });
}
