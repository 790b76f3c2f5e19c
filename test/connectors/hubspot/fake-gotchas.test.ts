import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HubSpotFakeOptions } from '../../../src/connectors/hubspot/fake/index.js';
import { type RunningHubSpotFake, startHubSpotFake } from '../../../src/testing/index.js';
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js';

/** Every gotcha of providers.md §1, through plain HTTP so the exact statuses, headers and bodies show. */
let fake: RunningHubSpotFake;
afterEach(async () => {
  await fake?.close();
});

async function start(options: HubSpotFakeOptions = {}) {
  fake = await startHubSpotFake({ searchLagMs: 0, ...options });
  return fake;
}

async function call(method: string, path: string, body?: unknown, token = 'pat-na1-app-a') {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const seed = (input: unknown) => call('POST', '/_fake/seed', input);
const search = (body: Record<string, unknown>, type = 'contacts') =>
  call('POST', `/crm/v3/objects/${type}/search`, body);

describe('HubSpot fake: rate limits', () => {
  it('sends the rate-limit headers on CRM answers and none on search answers', async () => {
    await start();
    const list = await call('GET', '/crm/v3/objects/contacts');
    expect(
      Object.fromEntries([...list.headers].filter(([k]) => k.startsWith('x-hubspot-ratelimit'))),
    ).toEqual({
      'x-hubspot-ratelimit-daily': '250000',
      'x-hubspot-ratelimit-daily-remaining': '249999',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
      'x-hubspot-ratelimit-max': '100',
      'x-hubspot-ratelimit-remaining': '99',
      'x-hubspot-ratelimit-secondly': '10',
      'x-hubspot-ratelimit-secondly-remaining': '9',
    });
    const found = await search({});
    expect(found.status).toBe(200);
    expect([...found.headers.keys()].filter((k) => k.startsWith('x-hubspot-ratelimit'))).toEqual([]);
  });

  it('keeps a rolling 10 s bucket per app: the 101st in any 10 s is a TEN_SECONDLY_ROLLING 429', async () => {
    await start();
    const first = fake.clock.now();
    for (let i = 0; i < 100; i++) expect((await call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
    const last = fake.clock.now();
    const refused = await call('GET', '/crm/v3/objects/contacts');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      status: 'error',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(refused.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    // Another app (token) of the account has its own 10 s bucket.
    expect((await call('GET', '/crm/v3/objects/contacts', undefined, 'pat-na1-app-b')).status).toBe(200);
    // Still all 100 within the 10 s before this instant…
    fake.clock.set(first + 9_990);
    expect((await call('GET', '/crm/v3/objects/contacts')).status).toBe(429);
    // …and none of them 10 s after the last.
    fake.clock.set(last + 10_001);
    expect((await call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
    const { buckets } = (await (await fetch(`${fake.url}/_fake/stats`)).json()) as {
      buckets: Record<string, { limited: number }>;
    };
    expect(buckets.tenSecondly!.limited).toBe(2);
  });

  it('paces by the tier: professional allows 190 per 10 s', async () => {
    await start({ tier: 'professional' });
    const statuses = [];
    for (let i = 0; i < 191; i++) statuses.push((await call('GET', '/crm/v3/objects/deals')).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(190);
    expect(statuses[190]).toBe(429);
  });

  it('keeps one daily bucket for the account that resets at midnight in its zone', async () => {
    await start({ timeZone: 'America/New_York' });
    fake.clock.set(Date.parse('2026-06-01T03:59:00Z')); // 23:59 in New York
    await seed({ dailyRemaining: 1 });
    expect((await call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
    const refused = await call('GET', '/crm/v3/objects/contacts', undefined, 'pat-na1-app-b');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      policyName: 'DAILY',
      message: 'You have reached your daily limit.',
    });
    expect((await search({})).body).toMatchObject({ policyName: 'DAILY' });
    fake.clock.advance(60_000);
    expect((await call('GET', '/crm/v3/objects/contacts')).status).toBe(200);
  });

  it("limits search to 5 a second with the 'secondly limit' message and no headers", async () => {
    await start();
    for (let i = 0; i < 5; i++) expect((await search({})).status).toBe(200);
    const refused = await search({});
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      message: 'You have reached your secondly limit.',
      policyName: 'SECONDLY',
    });
    expect([...refused.headers.keys()].filter((k) => k.startsWith('x-hubspot'))).toEqual([]);
    // Search has its own bucket: the 10 s one still has room.
    expect((await call('GET', '/crm/v3/objects/contacts')).headers.get('x-hubspot-ratelimit-remaining')).toBe(
      '99',
    );
  });
});

describe('HubSpot fake: objects', () => {
  it('refuses a write to an unknown property with JSON inside the message, and ignores unknown ones on reads', async () => {
    await start();
    const refused = await call('POST', '/crm/v3/objects/contacts', {
      properties: { email: 'a@b.c', shoe_size: '44' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.category).toBe('VALIDATION_ERROR');
    const embedded = JSON.parse(refused.body.message.slice('Property values were not valid: '.length));
    expect(embedded).toEqual([
      expect.objectContaining({ isValid: false, error: 'PROPERTY_DOESNT_EXIST', name: 'shoe_size' }),
    ]);
    expect(fake.hubspot.store.type('contacts').records.size).toBe(0);

    const created = await call('POST', '/crm/v3/objects/contacts', { properties: { email: 'a@b.c' } });
    const read = await call('GET', `/crm/v3/objects/contacts/${created.body.id}?properties=email,shoe_size`);
    expect(read.status).toBe(200);
    expect(Object.keys(read.body.properties).sort()).toEqual([
      'createdate',
      'email',
      'hs_object_id',
      'lastmodifieddate',
    ]);
  });

  it('answers every value as a string, whatever JSON type was written', async () => {
    await start();
    const created = await call('POST', '/crm/v3/objects/deals', {
      properties: { dealname: 'D', amount: 1250.5 },
    });
    expect(created.status).toBe(201);
    expect(created.body.properties.amount).toBe('1250.5');
    const refused = await call('POST', '/crm/v3/objects/deals', { properties: { amount: 'lots' } });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('INVALID_INTEGER');
  });

  it('lists only archived records with archived=true, and the last page has no paging', async () => {
    await start({ seed: { contacts: 5 } });
    await call('DELETE', '/crm/v3/objects/contacts/101');
    const archived = await call('GET', '/crm/v3/objects/contacts?archived=true');
    expect(archived.body.results.map((r: { id: string; archived: boolean }) => [r.id, r.archived])).toEqual([
      ['101', true],
    ]);
    const first = await call('GET', '/crm/v3/objects/contacts?limit=3');
    expect(first.body.results).toHaveLength(3);
    expect(first.body.paging.next.link).toContain(`${fake.url}/crm/v3/objects/contacts?limit=3&after=`);
    const last = await call('GET', `/crm/v3/objects/contacts?limit=3&after=${first.body.paging.next.after}`);
    expect(last.body.results.map((r: { id: string }) => r.id)).toEqual(['105']);
    expect(last.body.paging).toBeUndefined();
  });

  it('expires list cursors', async () => {
    await start({ seed: { contacts: 5 }, cursorTtlMs: 60_000 });
    const first = await call('GET', '/crm/v3/objects/contacts?limit=2');
    fake.clock.advance(60_001);
    const expired = await call(
      'GET',
      `/crm/v3/objects/contacts?limit=2&after=${first.body.paging.next.after}`,
    );
    expect(expired.status).toBe(400);
    expect(expired.body).toMatchObject({
      category: 'VALIDATION_ERROR',
      subCategory: 'PAGING_CURSOR_EXPIRED',
    });
  });

  it('answers an unknown object type and a duplicate unique value as HubSpot does', async () => {
    await start();
    const unknown = await call('GET', '/crm/v3/objects/widgets');
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe('Unable to infer object type from: widgets');
    const first = await call('POST', '/crm/v3/objects/contacts', {
      properties: { email: 'dup@example.com' },
    });
    const again = await call('POST', '/crm/v3/objects/contacts', {
      properties: { email: 'DUP@example.com' },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      category: 'CONFLICT',
      message: `Contact already exists. Existing ID: ${first.body.id}`,
    });
  });
});

describe('HubSpot fake: batches', () => {
  it('answers 207 (not 404) for missing ids, listing them, and 400 past 100 inputs', async () => {
    await start({ seed: { contacts: 3 } });
    const read = await call('POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: [{ id: '101' }, { id: '7' }, { id: '8' }],
      properties: ['email'],
    });
    expect(read.status).toBe(207);
    expect(read.body).toMatchObject({
      status: 'COMPLETE',
      numErrors: 1,
      errors: [{ category: 'OBJECT_NOT_FOUND', context: { ids: ['7', '8'] } }],
    });
    expect(read.body.results).toHaveLength(1);
    const tooMany = await call('POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: Array.from({ length: 101 }, () => ({ properties: {} })),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.category).toBe('VALIDATION_ERROR');
  });

  it('applies the good inputs of a traced write and answers 207 per bad one; untraced, nothing is written', async () => {
    await start();
    const inputs = [
      { properties: { email: 'ok@example.com' } },
      { properties: { email: 'bad@example.com', nope: 'x' } },
    ];
    const untraced = await call('POST', '/crm/v3/objects/contacts/batch/create', { inputs });
    expect(untraced.status).toBe(400);
    expect(fake.hubspot.store.type('contacts').records.size).toBe(0);
    const traced = await call('POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: inputs.map((input, i) => ({ ...input, objectWriteTraceId: `t${i}` })),
    });
    expect(traced.status).toBe(207);
    expect(traced.body.results).toEqual([
      expect.objectContaining({
        objectWriteTraceId: 't0',
        properties: expect.objectContaining({ email: 'ok@example.com' }),
      }),
    ]);
    expect(traced.body.errors).toEqual([
      expect.objectContaining({ category: 'VALIDATION_ERROR', context: { objectWriteTraceId: ['t1'] } }),
    ]);
  });

  it('upserts by a unique property, saying which records are new', async () => {
    await start({ seed: { contacts: 1 } });
    const upserted = await call('POST', '/crm/v3/objects/contacts/batch/upsert', {
      inputs: [
        { id: 'contact1@example.com', idProperty: 'email', properties: { firstname: 'Old' } },
        { id: 'new@example.com', idProperty: 'email', properties: { firstname: 'New' } },
      ],
    });
    expect(upserted.status).toBe(200);
    expect(
      upserted.body.results.map((r: { new: boolean; properties: { email: string } }) => [
        r.properties.email,
        r.new,
      ]),
    ).toEqual([
      ['contact1@example.com', false],
      ['new@example.com', true],
    ]);
  });
});

describe('HubSpot fake: search', () => {
  it('refuses more than 5 groups, 6 filters in a group, 18 in all, 200 a page and 3,000 characters', async () => {
    await start();
    const filter = { propertyName: 'email', operator: 'HAS_PROPERTY' };
    const groups = (n: number, each: number) =>
      Array.from({ length: n }, () => ({ filters: Array.from({ length: each }, () => filter) }));
    expect((await search({ filterGroups: groups(5, 3) })).status).toBe(200);
    expect((await search({ filterGroups: groups(6, 1) })).status).toBe(400);
    expect((await search({ filterGroups: groups(1, 7) })).status).toBe(400);
    fake.clock.advance(1000);
    expect((await search({ filterGroups: groups(4, 5) })).body.message).toMatch(/Too many filters: 20/);
    expect((await search({ limit: 201 })).status).toBe(400);
    const long = await search({ query: 'x'.repeat(3000) });
    expect(long.status).toBe(400);
    expect(long.body.message).toMatch(/at most 3000/);
  });

  it('stops at 10,000 results: the page past them is a 400', async () => {
    await start({ seed: { contacts: 10_050, associate: false } });
    const near = await search({ limit: 100, after: '9900' });
    expect(near.body.total).toBe(10_050);
    expect(near.body.paging.next.after).toBe('10000');
    const past = await search({ limit: 100, after: near.body.paging.next.after });
    expect(past.status).toBe(400);
    expect(past.body.message).toMatch(/limited to 10000/);
  });

  it('leaves archived records out, and shows writes only after the lag', async () => {
    await start({ seed: { contacts: 3 }, searchLagMs: 2000 });
    fake.clock.advance(2000);
    await call('DELETE', '/crm/v3/objects/contacts/101');
    await call('PATCH', '/crm/v3/objects/contacts/102', { properties: { firstname: 'Changed' } });
    const changed = () =>
      search({
        filterGroups: [{ filters: [{ propertyName: 'firstname', operator: 'EQ', value: 'Changed' }] }],
      });
    expect((await search({})).body.total).toBe(3);
    expect((await changed()).body.total).toBe(0);
    fake.clock.advance(2000);
    expect((await search({})).body.results.map((r: { id: string }) => r.id)).toEqual(['102', '103']);
    expect((await changed()).body.total).toBe(1);
  });
});

describe('HubSpot fake: associations', () => {
  it('refuses an association past the per-record limit, naming the record, and batches over 1,000', async () => {
    await start({ seed: { contacts: 1, companies: 3, associate: false }, associationLimit: 2 });
    const link = (company: string) =>
      call('PUT', `/crm/v4/objects/contacts/101/associations/default/companies/${company}`);
    expect((await link('102')).status).toBe(200);
    expect((await link('103')).status).toBe(200);
    const third = await link('104');
    expect(third.status).toBe(400);
    expect(third.body).toMatchObject({
      subCategory: 'crm.associations.TOO_MANY_ASSOCIATIONS',
      message: expect.stringContaining('contact 101'),
    });
    const big = await call('POST', '/crm/v4/associations/contacts/companies/batch/read', {
      inputs: Array.from({ length: 1001 }, (_, i) => ({ id: String(i) })),
    });
    expect(big.status).toBe(400);
  });
});

describe('HubSpot fake: webhooks', () => {
  async function subscribe(target: string, ...eventTypes: string[]) {
    await fetch(`${fake.url}/webhooks/v3/54321/settings?hapikey=dev`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ targetUrl: target, throttling: { maxConcurrentRequests: 10 } }),
    });
    for (const eventType of eventTypes) {
      await fetch(`${fake.url}/webhooks/v3/54321/subscriptions?hapikey=dev`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ eventType, active: true }),
      });
    }
  }
  const v3 = (secret: string, url: string, body: string, ts: string) =>
    createHmac('sha256', secret).update(`POST${url}${body}${ts}`).digest('base64');

  it('posts arrays with duplicates, in no order', async () => {
    await start({ webhooks: { duplicateRate: 0.3 } });
    const receiver = await startWebhookReceiver();
    try {
      await subscribe(receiver.url, 'contact.creation');
      const inputs = Array.from({ length: 40 }, (_, i) => ({ properties: { email: `w${i}@example.com` } }));
      await call('POST', '/crm/v3/objects/contacts/batch/create', { inputs });
      fake.hubspot.webhooks.flush();
      await receiver.waitFor(1);
      const events = JSON.parse(receiver.received[0]!.body.toString('utf8')) as { eventId: number }[];
      expect(Array.isArray(events)).toBe(true);
      const ids = events.map((e) => e.eventId);
      expect(new Set(ids).size).toBe(40);
      expect(ids.length).toBeGreaterThan(40);
      expect(ids).not.toEqual([...ids].sort((a, b) => a - b));
    } finally {
      await receiver.close();
    }
  });

  it('retries a failed post on its clock with the same events, a higher attemptNumber and a fresh signature', async () => {
    await start({ webhooks: { duplicateRate: 0, reorder: false } });
    const receiver = await startWebhookReceiver([500, 503]);
    try {
      await subscribe(receiver.url, 'contact.creation');
      await call('POST', '/crm/v3/objects/contacts', { properties: { email: 'r@example.com' } });
      fake.hubspot.webhooks.flush();
      await receiver.waitFor(1);
      await until(() => fake.hubspot.webhooks.stats.retries === 1);
      fake.clock.advance(72_000); // past the first retry's jittered minute
      await receiver.waitFor(2);
      await until(() => fake.hubspot.webhooks.stats.retries === 2);
      fake.clock.advance(144_000);
      await receiver.waitFor(3);
      const posts = receiver.received.map(({ headers, body }) => ({
        headers,
        text: body.toString('utf8'),
        events: JSON.parse(body.toString('utf8')),
      }));
      expect(posts.map((p) => p.events[0].attemptNumber)).toEqual([0, 1, 2]);
      expect(new Set(posts.map((p) => p.events[0].eventId)).size).toBe(1);
      const stamps = posts.map((p) => String(p.headers['x-hubspot-request-timestamp']));
      expect(new Set(stamps).size).toBe(3);
      for (const [i, p] of posts.entries()) {
        expect(p.headers['x-hubspot-signature-v3']).toBe(
          v3(fake.hubspot.clientSecret, receiver.url, p.text, stamps[i]!),
        );
      }
    } finally {
      await receiver.close();
    }
  });

  it('counts a post unanswered within the timeout as failed, and gives up after 10 retries', async () => {
    await start({ webhooks: { duplicateRate: 0, timeoutMs: 100 } });
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hook`;
    try {
      await subscribe(url, 'contact.creation');
      await call('POST', '/crm/v3/objects/contacts', { properties: { email: 't@example.com' } });
      fake.hubspot.webhooks.flush();
      const { webhooks } = fake.hubspot;
      for (let attempt = 0; attempt <= 10; attempt++) {
        await until(() => webhooks.log.length === attempt + 1);
        fake.clock.advance(11 * 60 * 60_000);
      }
      expect(webhooks.log.map((l) => l.outcome)).toEqual(Array(11).fill('timeout'));
      expect(webhooks.log.map((l) => l.attempt)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      // 10 retries, the last within 24 h of the first attempt.
      expect(webhooks.stats).toMatchObject({ retries: 10, dropped: 1 });
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
