import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { hubspotV3Headers, slackHeaders } from '../webhooks/signers.js';

/**
 * The ingress over real HTTP: requests signed by the providers' own libraries (or from their docs) are
 * stored once, repeats are counted not stored, split requests become several events, and everything
 * refused leaves the store as it was.
 */
const stripe = new Stripe('sk_test_unused');
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const TOKEN = 'ingress-admin-token-0123456789';
const HUBSPOT_URL = 'https://hooks.example.com/webhooks/crm';

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`webhook ingress on ${dialect.name}`, () => {
    const secrets = {
      sw: generateWebhookSecret(),
      gh: randomBytes(20).toString('hex'),
      st: `whsec_${randomBytes(24).toString('hex')}`,
      crm: randomBytes(16).toString('hex'),
      slack: randomBytes(16).toString('hex'),
      graph: 'client-state-value-1',
    };
    let t: TestEngine;
    let base: string;
    const clock = new FakeClock(NOW);

    beforeAll(async () => {
      t = await openTestEngine(
        dialect,
        {
          sources: [
            { id: 'sw', verify: { scheme: 'standard-webhooks', secrets: [secrets.sw] } },
            { id: 'gh', verify: { scheme: 'github', secrets: ['old-secret', secrets.gh] } },
            { id: 'st', verify: { scheme: 'stripe', secrets: [secrets.st] } },
            { id: 'crm', verify: { scheme: 'hubspot-v3', secrets: [secrets.crm], publicUrl: HUBSPOT_URL } },
            { id: 'slack', verify: { scheme: 'slack', secrets: [secrets.slack] } },
            { id: 'graph', verify: { scheme: 'msgraph', secrets: [secrets.graph] } },
            { id: 'small', verify: { scheme: 'github', secrets: [secrets.gh] }, bodyLimit: '1kb' },
            { id: 'open', verify: { scheme: 'none', insecure: true } },
          ],
          server: { adminToken: TOKEN },
        },
        { clock },
      );
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await t?.close();
    });

    const post = async (path: string, body: string | Buffer, headers: Record<string, string | string[]>) => {
      const res = await request(`${base}${path}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
    };
    const eventsOf = async (source: string) =>
      (await t.engine.events.list({ source, limit: 1000 })).filter((e) => e.source === source);

    it('stores a Standard Webhooks event once; a repeat is answered 200 and counted, not stored', async () => {
      const body = JSON.stringify({ type: 'invoice.paid', data: { n: randomBytes(8).toString('hex') } });
      const id = `msg_${randomBytes(6).toString('hex')}`;
      const sign = () => ({
        'webhook-id': id,
        'webhook-timestamp': String(NOW / 1000),
        'webhook-signature': new Webhook(secrets.sw).sign(id, new Date(NOW), body),
      });
      const first = await post('/webhooks/sw', body, sign());
      expect(first.status).toBe(200);
      expect(first.json()).toEqual({ received: 1, duplicates: 0 });
      const again = await post('/webhooks/sw', body, sign());
      expect(again.status).toBe(200);
      expect(again.json()).toEqual({ received: 1, duplicates: 1 });

      const [event, ...rest] = await eventsOf('sw');
      expect(rest).toEqual([]);
      expect(event).toMatchObject({
        externalId: id,
        type: 'invoice.paid',
        verification: 'standard-webhooks',
        duplicates: 1,
        receivedAt: NOW,
      });
      expect(event!.body.toString()).toBe(body);
      // The signature is not kept with the event: it is no use later and a replay aid.
      expect(event!.headers['webhook-signature']).toBeUndefined();
      expect(event!.headers['webhook-id']).toBe(id);
    });

    it('accepts GitHub (octokit-signed, second secret) and Stripe (stripe-signed); one changed byte is refused', async () => {
      const ghBody = JSON.stringify({ action: 'opened', number: Math.random() });
      const delivery = `d-${randomBytes(8).toString('hex')}`;
      const ghHeaders = {
        'x-github-delivery': delivery,
        'x-github-event': 'pull_request',
        'x-hub-signature-256': await octokitSign(secrets.gh, ghBody),
      };
      expect((await post('/webhooks/gh', ghBody, ghHeaders)).status).toBe(200);
      const tampered = await post('/webhooks/gh', ghBody.replace('opened', 'openeD'), ghHeaders);
      expect(tampered.status).toBe(401);
      expect(tampered.json().error.code).toBe('SIGNATURE_INVALID');
      const gh = await eventsOf('gh');
      expect(gh.map((e) => [e.externalId, e.type])).toEqual([[delivery, 'pull_request.opened']]);

      const stBody = JSON.stringify({
        id: `evt_${randomBytes(6).toString('hex')}`,
        type: 'charge.succeeded',
      });
      const stHeaders = {
        'stripe-signature': stripe.webhooks.generateTestHeaderString({
          payload: stBody,
          secret: secrets.st,
          timestamp: NOW / 1000,
        }),
      };
      expect((await post('/webhooks/st', stBody, stHeaders)).status).toBe(200);
      expect((await post('/webhooks/st', `${stBody} `, stHeaders)).status).toBe(401);
      expect((await eventsOf('st')).map((e) => e.type)).toEqual(['charge.succeeded']);
    });

    it('splits a HubSpot array into events deduped on eventId + subscriptionId + occurredAt', async () => {
      const batch = [1, 2, 3].map((n) => ({
        eventId: 100 + n,
        subscriptionId: 7,
        portalId: 99,
        occurredAt: NOW - n,
        subscriptionType: 'contact.propertyChange',
        objectId: n,
      }));
      const body = JSON.stringify(batch);
      const headers = hubspotV3Headers(secrets.crm, 'POST', HUBSPOT_URL, body, String(NOW));
      const res = await post('/webhooks/crm', body, headers);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ received: 3, duplicates: 0 });
      const stored = await eventsOf('crm');
      expect(stored).toHaveLength(3);
      expect(new Set(stored.map((e) => e.requestId)).size).toBe(1);
      expect(stored.map((e) => JSON.parse(e.body.toString()).objectId).sort()).toEqual([1, 2, 3]);
      expect(stored[0]!.type).toBe('contact.propertyChange');
      // HubSpot retries the whole array: nothing new.
      const retry = await post('/webhooks/crm', body, headers);
      expect(retry.json()).toEqual({ received: 3, duplicates: 3 });
      expect(await eventsOf('crm')).toHaveLength(3);
      // Outside HubSpot's 5-minute window (in ms): refused.
      const stale = hubspotV3Headers(secrets.crm, 'POST', HUBSPOT_URL, body, String(NOW - 301_000));
      expect((await post('/webhooks/crm', body, stale)).json().error.code).toBe('TIMESTAMP_OUT_OF_RANGE');
    });

    it('answers the Graph validation handshake in text/plain and stores notifications without clientState', async () => {
      const handshake = await request(`${base}/webhooks/graph?validationToken=token%20abc%3C`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
      expect(handshake.statusCode).toBe(200);
      expect(handshake.headers['content-type']).toMatch(/^text\/plain/);
      expect(await handshake.body.text()).toBe('token abc<');

      const notification = (extra: object) => ({
        subscriptionId: 'sub-1',
        clientState: secrets.graph,
        changeType: 'created',
        resource: 'Users/u1/Messages/m1',
        tenantId: 't1',
        ...extra,
      });
      const body = JSON.stringify({
        value: [
          notification({ resourceData: { id: 'm1' } }),
          notification({ lifecycleEvent: 'reauthorizationRequired', changeType: undefined }),
        ],
      });
      const res = await post('/webhooks/graph', body, {});
      expect(res.status).toBe(202);
      const stored = await eventsOf('graph');
      expect(stored.map((e) => e.type).sort()).toEqual(['created', 'lifecycle.reauthorizationRequired']);
      for (const e of stored) expect(e.body.toString()).not.toContain(secrets.graph);

      const forged = JSON.stringify({ value: [notification({ clientState: 'guess' })] });
      expect((await post('/webhooks/graph', forged, {})).status).toBe(401);
      expect(await eventsOf('graph')).toHaveLength(2);
    });

    it('verifies Slack and accepts unsigned requests only on the source declared insecure', async () => {
      const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: { type: 'message' } });
      const ts = String(NOW / 1000);
      expect((await post('/webhooks/slack', body, slackHeaders(secrets.slack, ts, body))).status).toBe(200);
      expect((await eventsOf('slack'))[0]).toMatchObject({ externalId: 'Ev1' });

      const open = await post('/webhooks/open', JSON.stringify({ type: 'ping' }), { 'webhook-id': 'o-1' });
      expect(open.status).toBe(200);
      expect((await eventsOf('open'))[0]).toMatchObject({ verification: 'unverified', type: 'ping' });
      expect(t.logs.text).toMatch(/"source":"open".*accepts UNSIGNED webhooks/);
    });

    it('refuses hostile requests with the right 4xx, keeps serving, and stores nothing', async () => {
      const before = (await t.engine.events.list({ limit: 1000 })).length;
      const body = JSON.stringify({ action: 'x' });
      const ghSigned = async (b: string | Buffer) => ({
        'x-github-delivery': 'd-hostile',
        'x-github-event': 'push',
        'x-hub-signature-256': await octokitSign(secrets.gh, b.toString('latin1')),
      });
      const swHeaders = (b: string, seconds: number) => ({
        'webhook-id': 'msg_hostile',
        'webhook-timestamp': String(seconds),
        'webhook-signature': new Webhook(secrets.sw).sign('msg_hostile', new Date(seconds * 1000), b),
      });
      const cases: [string, () => ReturnType<typeof post>, number, string][] = [
        ['unknown source', () => post('/webhooks/nope', body, {}), 404, 'SOURCE_NOT_FOUND'],
        ['empty body, no signature', () => post('/webhooks/gh', '', {}), 401, 'SIGNATURE_MISSING'],
        [
          'body over the source limit',
          async () => post('/webhooks/small', 'x'.repeat(2048), await ghSigned('x'.repeat(2048))),
          413,
          'PAYLOAD_TOO_LARGE',
        ],
        [
          'body over every limit',
          () => post('/webhooks/gh', Buffer.alloc(2 * 1024 * 1024, 0x20), {}),
          413,
          'FST_ERR_CTP_BODY_TOO_LARGE',
        ],
        [
          'wrong content type',
          async () =>
            post('/webhooks/gh', body, { ...(await ghSigned(body)), 'content-type': 'application/xml' }),
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        ],
        [
          'malformed JSON with a valid signature',
          async () => post('/webhooks/gh', '{"action":', await ghSigned('{"action":')),
          400,
          'PAYLOAD_INVALID',
        ],
        [
          'invalid UTF-8 with a valid signature',
          async () => {
            const bad = Buffer.concat([
              Buffer.from('{"action":"'),
              Buffer.from([0xc3, 0x28]),
              Buffer.from('"}'),
            ]);
            const sw = `msg_${randomBytes(4).toString('hex')}`;
            const sig = new Webhook(secrets.sw).sign(sw, new Date(NOW), bad.toString('latin1'));
            // standardwebhooks signs strings: the latin1 view keeps the bytes.
            return post('/webhooks/sw', bad, {
              'webhook-id': sw,
              'webhook-timestamp': String(NOW / 1000),
              'webhook-signature': sig,
            });
          },
          0,
          '',
        ],
        [
          'signature header repeated',
          async () => {
            const h = await ghSigned(body);
            return post('/webhooks/gh', body, {
              ...h,
              'x-hub-signature-256': [h['x-hub-signature-256'], 'sha256=00'],
            });
          },
          401,
          'SIGNATURE_INVALID',
        ],
        [
          'timestamp far in the past',
          () => post('/webhooks/sw', body, swHeaders(body, NOW / 1000 - 86_400)),
          401,
          'TIMESTAMP_OUT_OF_RANGE',
        ],
        [
          'timestamp far in the future',
          () => post('/webhooks/sw', body, swHeaders(body, NOW / 1000 + 10 ** 12)),
          401,
          'TIMESTAMP_OUT_OF_RANGE',
        ],
        [
          'Graph notification without value[]',
          () => post('/webhooks/graph', '{}', {}),
          400,
          'PAYLOAD_INVALID',
        ],
      ];
      for (const [name, send, status, code] of cases) {
        const res = await send();
        if (status === 0) {
          // Invalid UTF-8: refused as a payload (400) or a signature mismatch — never stored, never a 5xx.
          expect([400, 401], name).toContain(res.status);
          continue;
        }
        expect(res.status, name).toBe(status);
        expect(res.json().error.code, name).toBe(code);
      }
      expect((await t.engine.events.list({ limit: 1000 })).length).toBe(before);
      expect((await request(`${base}/healthz`)).statusCode).toBe(200);
      const metrics = await (await request(`${base}/metrics`)).body.text();
      expect(metrics).toMatch(
        /patchbay_webhooks_rejected_total\{source="gh",code="SIGNATURE_INVALID"\} [1-9]/,
      );
    });

    it('refuses a signature header sent twice on the wire as repeated, although Node joins the two', async () => {
      const body = JSON.stringify({ action: 'twice' });
      const valid = await octokitSign(secrets.gh, body);
      for (const second of ['sha256=00', valid]) {
        const res = await post('/webhooks/gh', body, {
          'x-github-delivery': `d-twice-${second.length}`,
          'x-github-event': 'push',
          'x-hub-signature-256': [valid, second],
        });
        expect(res.status).toBe(401);
        expect(res.json().error).toMatchObject({
          code: 'SIGNATURE_INVALID',
          message: 'X-Hub-Signature-256 header is repeated',
        });
      }
    });

    it('lists sources in the admin API without their secrets', async () => {
      const res = await t.app.inject({
        url: '/api/v1/sources/gh',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: 'gh', scheme: 'github', secrets: 2, url: '/webhooks/gh' });
      expect(res.body).not.toContain(secrets.gh);
    });
  });
}
