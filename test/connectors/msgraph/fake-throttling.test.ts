import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { fetchToken, graphFetch, type Json, startFake } from './helpers.js';

let fake: RunningMsGraphFake;
let token: string;
beforeEach(async () => {
  fake = await startFake({ https: false });
  token = await fetchToken(fake);
});
afterEach(async () => {
  await fake.close();
});

const messages = '/v1.0/users/adele@contoso.test/messages';
const settings = (body: Record<string, unknown>) =>
  fetch(`${fake.url}/_fake/settings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const batch = (requests: unknown[]) =>
  graphFetch(fake, token, '/v1.0/$batch', { method: 'POST', body: { requests } });

describe('Graph fake: throttling', () => {
  it('answers a fifth concurrent request on one mailbox with 429 ApplicationThrottled', async () => {
    await settings({ latencyMs: 300 });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => graphFetch(fake, token, `${messages}?$top=1`)),
    );
    const throttled = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(4);
    expect(throttled).toHaveLength(1);
    expect(throttled[0]!.body.error).toMatchObject({
      code: 'ApplicationThrottled',
      message: 'Application is over its MailboxConcurrency limit.',
    });
    // Another mailbox has its own four.
    const other = await graphFetch(fake, token, '/v1.0/users/alex@contoso.test/messages?$top=1');
    expect(other.status).toBe(200);
  });

  it('counts requests per app and mailbox in a rolling window; Retry-After says when a slot frees, in fractional seconds', async () => {
    await settings({ mailboxRequestsPerWindow: 3, mailboxWindowMs: 10_000 });
    for (let i = 0; i < 3; i++)
      expect((await graphFetch(fake, token, `${messages}?$top=1`)).status).toBe(200);
    fake.clock.advance(2_500);
    const refused = await graphFetch(fake, token, `${messages}?$top=1`);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({
      code: 'TooManyRequests',
      message: 'Please retry again later.',
    });
    expect(refused.body.error.innerError).toMatchObject({ code: '429', status: '429' });
    const wait = Number(refused.headers.get('retry-after'));
    expect(refused.headers.get('retry-after')).toMatch(/^\d+\.\d{3}$/);
    expect(wait).toBeGreaterThan(7);
    expect(wait).toBeLessThanOrEqual(7.5);
    fake.clock.advance(Math.ceil(wait * 1000));
    expect((await graphFetch(fake, token, `${messages}?$top=1`)).status).toBe(200);
  });

  it('injects Graph’s 429 with a fractional Retry-After on demand, and 503/504', async () => {
    await fetch(`${fake.url}/_fake/throttle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ retryAfter: 2.128, times: 1 }),
    });
    const first = await graphFetch(fake, token, messages);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2.128');
    expect(first.body.error.code).toBe('TooManyRequests');
    await fetch(`${fake.url}/_fake/throttle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 503, retryAfter: 1 }),
    });
    expect((await graphFetch(fake, token, messages)).status).toBe(503);
    expect((await graphFetch(fake, token, messages)).status).toBe(200);
  });
});

describe('Graph fake: $batch', () => {
  it('refuses more than 20 requests and duplicate ids with an outer 400', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users' }));
    const tooMany = await batch(many);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toBe('Number of requests inside batch exceeds the limit.');
    expect((await batch(many.slice(0, 20))).status).toBe(200);
    const dup = await batch([
      { id: '1', method: 'GET', url: '/users' },
      { id: '1', method: 'GET', url: '/users' },
    ]);
    expect(dup.status).toBe(400);
  });

  it('throttles sub-requests on their own: a 429 with its own Retry-After inside an outer 200', async () => {
    await fetch(`${fake.url}/_fake/throttle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/v1.0/users/alex', retryAfter: 0.75 }),
    });
    const answer = await batch([
      { id: 'a', method: 'GET', url: '/users/adele@contoso.test/messages?$top=1' },
      { id: 'b', method: 'GET', url: '/users/alex@contoso.test/messages?$top=1' },
    ]);
    expect(answer.status).toBe(200);
    const byId = Object.fromEntries(answer.body.responses.map((r: Json) => [r.id, r]));
    expect(byId.a.status).toBe(200);
    expect(byId.a.body.value).toHaveLength(1);
    expect(byId.b.status).toBe(429);
    expect(byId.b.headers['Retry-After']).toBe('0.75');
    expect(byId.b.body.error.code).toBe('TooManyRequests');
  });

  it('answers 424 to a request whose dependency failed, without running it', async () => {
    const [first] = fake.graph.control.snapshot('adele@contoso.test', 'inbox');
    const answer = await batch([
      { id: '1', method: 'GET', url: '/users/adele@contoso.test/messages/AAMkADnonexistent=' },
      {
        id: '2',
        method: 'PATCH',
        url: `/users/adele@contoso.test/messages/${first!.id}`,
        headers: { 'Content-Type': 'application/json' },
        body: { isRead: !first!.isRead },
        dependsOn: ['1'],
      },
    ]);
    const byId = Object.fromEntries(answer.body.responses.map((r: Json) => [r.id, r]));
    expect(byId['1'].status).toBe(404);
    expect(byId['2'].status).toBe(424);
    expect(fake.graph.control.snapshot('adele@contoso.test', 'inbox')[0]!.isRead).toBe(first!.isRead);
  });

  it('refuses a sub-request with a body but no Content-Type, naming its id', async () => {
    const answer = await batch([
      { id: 'w', method: 'POST', url: '/users/adele@contoso.test/mailFolders', body: { displayName: 'X' } },
    ]);
    expect(answer.body.responses[0]).toMatchObject({ id: 'w', status: 400 });
    expect(answer.body.responses[0].body.error.message).toBe(
      'Write request id : w does not contain Content-Type header or body.',
    );
  });
});
