import { createHmac } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type WebhookFailure,
  type WebhookReceipt,
  webhookOf,
  webhookVerification,
} from '../../src/webhooks/index.js';

/** A user's own Fastify server on 127.0.0.1 with the adapter in front of its webhook routes. */
describe('the Fastify adapter', () => {
  const NOW = 1_700_000_000_000;
  const received: WebhookReceipt[] = [];
  const rejected: WebhookFailure[] = [];
  let app: FastifyInstance;
  let base = '';

  beforeAll(async () => {
    app = Fastify();
    app.register(async (scope) => {
      await scope.register(webhookVerification, {
        scheme: 'github',
        secrets: ['old-secret', 'new-secret'],
        onRejected: (failure) => rejected.push(failure),
      });
      scope.post('/hooks/github', async (req) => {
        received.push(webhookOf(req)!);
        return { stored: webhookOf(req)!.events.length };
      });
    });
    app.register(async (scope) => {
      await scope.register(webhookVerification, { scheme: 'msgraph', secrets: ['client-state'] });
      scope.post('/hooks/graph', async (req) => ({ stored: webhookOf(req)!.events.length }));
    });
    app.register(async (scope) => {
      await scope.register(webhookVerification, {
        scheme: 'hubspot-v3',
        secrets: ['hs-secret'],
        options: { publicUrl: 'https://hooks.example.com' },
        now: () => NOW,
      });
      scope.post('/hooks/hubspot', async (req) => ({ types: webhookOf(req)!.events.map((e) => e.type) }));
    });
    app.register(async (scope) => {
      await scope.register(webhookVerification, {
        scheme: 'slack',
        secrets: ['slack-secret'],
        now: () => NOW,
      });
      scope.post('/hooks/slack', async () => ({ ok: true }));
    });
    // A route outside the webhook scopes keeps Fastify's normal JSON parsing.
    app.post('/api/echo', async (req) => ({ parsed: req.body }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app.close();
  });

  const post = async (path: string, body: string, headers: Record<string, string>) => {
    const res = await request(`${base}${path}`, { method: 'POST', body, headers });
    const text = await res.body.text();
    return { status: res.statusCode, type: res.headers['content-type'], text, json: () => JSON.parse(text) };
  };

  it('verifies the raw bytes of a JSON request and hands the events to the route', async () => {
    const body = '{"action":"opened",  "issue": {"number": 7}}';
    const res = await post('/hooks/github', body, {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': 'd-1',
      'x-hub-signature-256': await octokitSign('new-secret', body),
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ stored: 1 });
    expect(received.at(-1)).toMatchObject({
      verification: { secretIndex: 1 },
      events: [{ externalId: 'd-1', type: 'issues.opened' }],
      rawBody: Buffer.from(body),
    });
  });

  it('answers 401 with the failure code and never runs the route for a bad signature', async () => {
    const count = received.length;
    const res = await post('/hooks/github', '{"action":"opened"}', {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': 'd-2',
      'x-hub-signature-256': await octokitSign('new-secret', '{"action":"closed"}'),
    });
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({
      error: { code: 'SIGNATURE_INVALID', message: 'X-Hub-Signature-256 does not match a configured secret' },
    });
    expect(received.length).toBe(count);
    expect(rejected.at(-1)).toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('answers 400 for a signed body that is not JSON', async () => {
    const body = '{"action":';
    const res = await post('/hooks/github', body, {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': 'd-3',
      'x-hub-signature-256': await octokitSign('old-secret', body),
    });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'PAYLOAD_INVALID' } });
  });

  it("answers Graph's validation request with the token as text/plain", async () => {
    const res = await post('/hooks/graph?validationToken=Validation%3a+Testing+client+application', '', {
      'content-type': 'text/plain; charset=utf-8',
    });
    expect(res).toMatchObject({ status: 200, text: 'Validation: Testing client application' });
    expect(res.type).toMatch(/^text\/plain/);
    const notification = {
      value: [{ clientState: 'client-state', changeType: 'created', resource: 'Users/1/Messages/2' }],
    };
    expect(
      (
        await post('/hooks/graph', JSON.stringify(notification), { 'content-type': 'application/json' })
      ).json(),
    ).toEqual({ stored: 1 });
  });

  it('verifies HubSpot v3 against publicUrl plus the path and query as received', async () => {
    const body =
      '[{"eventId":5,"subscriptionId":9,"occurredAt":1700000000000,"subscriptionType":"contact.creation"}]';
    const ts = String(NOW);
    const uri = 'https://hooks.example.com/hooks/hubspot?portal=62515&x=a:b';
    const signature = createHmac('sha256', 'hs-secret').update(`POST${uri}${body}${ts}`).digest('base64');
    const res = await post('/hooks/hubspot?portal=62515&x=a%3Ab', body, {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': signature,
      'x-hubspot-request-timestamp': ts,
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ types: ['contact.creation'] });
  });

  it("answers Slack's url_verification challenge once the request verified", async () => {
    const body = '{"type":"url_verification","challenge":"abc123"}';
    const ts = String(NOW / 1000);
    const sig = `v0=${createHmac('sha256', 'slack-secret').update(`v0:${ts}:${body}`).digest('hex')}`;
    const headers = { 'content-type': 'application/json', 'x-slack-request-timestamp': ts };
    expect(await post('/hooks/slack', body, { ...headers, 'x-slack-signature': sig })).toMatchObject({
      status: 200,
      text: 'abc123',
    });
    expect((await post('/hooks/slack', body, headers)).status).toBe(401);
  });

  it('leaves routes outside its scope with normal JSON parsing', async () => {
    const res = await post('/api/echo', '{"a":1}', { 'content-type': 'application/json' });
    expect(res.json()).toEqual({ parsed: { a: 1 } });
  });

  it('fails app.ready() on a bad configuration', async () => {
    const bad = Fastify();
    bad.register(webhookVerification, { scheme: 'standard-webhooks', secrets: ['whsec_***'] });
    await expect(bad.ready()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await bad.close();
  });
});
