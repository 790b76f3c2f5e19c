import { Client, Signature } from '@hubspot/api-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CLIENT_SECRET } from '../../../src/connectors/hubspot/fake/index.js';
import { type RunningHubSpotFake, startHubSpotFake } from '../../../src/testing/index.js';
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js';

/**
 * `@hubspot/api-client` 13, unmodified, with its `basePath` on the fake: what works against HubSpot
 * works here, and its own retry decorator reacts to the fake's 429s as to HubSpot's.
 */
let fake: RunningHubSpotFake;
let client: Client;

beforeEach(async () => {
  fake = await startHubSpotFake({ seed: { contacts: 250, companies: 3 }, searchLagMs: 1000 });
  client = new Client({ accessToken: 'pat-na1-11111111-2222-3333-4444-555555555555', basePath: fake.url });
});
afterEach(async () => {
  vi.useRealTimers();
  await fake.close();
});

const stats = async () =>
  (await (await fetch(`${fake.url}/_fake/stats`)).json()) as { counters: Record<string, number> };
const apiError = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; body: Record<string, unknown> };
  }
  throw new Error('expected the SDK call to fail');
};

describe('@hubspot/api-client against the fake', () => {
  it('creates, reads, updates and archives a contact, with every value a string', async () => {
    const created = await client.crm.contacts.basicApi.create({
      properties: { email: 'ada@example.org', firstname: 'Ada', lifecyclestage: 'lead' },
      associations: [],
    });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.properties).toMatchObject({ email: 'ada@example.org', hs_object_id: created.id });
    expect(created.createdAt).toBeInstanceOf(Date);

    const read = await client.crm.contacts.basicApi.getById(created.id, [
      'email',
      'lifecyclestage',
      'no_such_property',
    ]);
    expect(read.properties).toEqual({
      email: 'ada@example.org',
      lifecyclestage: 'lead',
      createdate: expect.any(String),
      hs_object_id: created.id,
      lastmodifieddate: expect.any(String),
    });

    const updated = await client.crm.contacts.basicApi.update(created.id, {
      properties: { firstname: 'Augusta' },
    });
    expect(updated.properties.firstname).toBe('Augusta');
    const byEmail = await client.crm.contacts.basicApi.getById(
      'ada@example.org',
      ['firstname'],
      undefined,
      undefined,
      false,
      'email',
    );
    expect(byEmail.id).toBe(created.id);

    await client.crm.contacts.basicApi.archive(created.id);
    expect((await apiError(client.crm.contacts.basicApi.getById(created.id))).code).toBe(404);
    const archived = await client.crm.contacts.basicApi.getById(
      created.id,
      undefined,
      undefined,
      undefined,
      true,
    );
    expect(archived.archived).toBe(true);
  });

  it('pages every contact with getAll until paging.next.after is absent', async () => {
    const all = await client.crm.contacts.getAll();
    expect(all).toHaveLength(250);
    expect(new Set(all.map((c) => c.id)).size).toBe(250);
    // 100 a page: three pages, the last without paging.
    expect((await stats()).counters['bucket:tenSecondly']).toBe(3);
    const second = await client.crm.contacts.basicApi.getPage(100);
    const third = await client.crm.contacts.basicApi.getPage(100, second.paging!.next!.after);
    const last = await client.crm.contacts.basicApi.getPage(100, third.paging!.next!.after);
    expect(last.results).toHaveLength(50);
    expect(last.paging).toBeUndefined();
  });

  it('runs batch read, create, update, upsert and archive, with 207 for missing ids', async () => {
    const created = await client.crm.contacts.batchApi.create({
      inputs: [
        { properties: { email: 'b1@example.org' }, associations: [] },
        { properties: { email: 'b2@example.org' }, associations: [] },
      ],
    });
    expect(created.status).toBe('COMPLETE');
    const ids = created.results.map((r) => r.id);

    const read = await client.crm.contacts.batchApi.read({
      inputs: [{ id: ids[0]! }, { id: '999999' }],
      properties: ['email'],
      propertiesWithHistory: [],
    });
    expect(read.results.map((r) => r.properties.email)).toEqual(['b1@example.org']);
    expect((read as { numErrors?: number }).numErrors).toBe(1);
    expect(
      (read as { errors?: { category: string; context: { ids: string[] } }[] }).errors?.[0],
    ).toMatchObject({
      category: 'OBJECT_NOT_FOUND',
      context: { ids: ['999999'] },
    });

    const updated = await client.crm.contacts.batchApi.update({
      inputs: ids.map((id) => ({ id, properties: { lastname: 'Batch' } })),
    });
    expect(updated.results.every((r) => r.properties.lastname === 'Batch')).toBe(true);

    const upserted = await client.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'b1@example.org', idProperty: 'email', properties: { firstname: 'One' } },
        { id: 'b3@example.org', idProperty: 'email', properties: { firstname: 'Three' } },
      ],
    });
    expect(upserted.results.map((r) => [r.properties.email, r._new])).toEqual([
      ['b1@example.org', false],
      ['b3@example.org', true],
    ]);

    await client.crm.contacts.batchApi.archive({ inputs: ids.map((id) => ({ id })) });
    const gone = await client.crm.contacts.batchApi.read({
      inputs: ids.map((id) => ({ id })),
      properties: [],
      propertiesWithHistory: [],
    });
    expect(gone.results).toEqual([]);
  });

  it('refuses a batch of more than 100 inputs with a 400', async () => {
    const error = await apiError(
      client.crm.contacts.batchApi.read({
        inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i + 1) })),
        properties: [],
        propertiesWithHistory: [],
      }),
    );
    expect(error.code).toBe(400);
    expect(error.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
  });

  it('searches with filters, a sort and paging, and sees writes only after the search lag', async () => {
    const page = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'firstname', operator: 'EQ' as never, value: 'ada' }] }],
      sorts: ['-createdate'],
      properties: ['email', 'firstname'],
      limit: 10,
      after: '0',
    });
    expect(page.total).toBe(25);
    expect(page.results).toHaveLength(10);
    expect(page.paging?.next?.after).toBe('10');
    expect(page.results[0]!.properties.email).toBe('contact241@example.com');

    await client.crm.contacts.basicApi.create({
      properties: { email: 'late@example.org', firstname: 'Late' },
      associations: [],
    });
    const search = () =>
      client.crm.contacts.searchApi.doSearch({
        filterGroups: [
          { filters: [{ propertyName: 'email', operator: 'EQ' as never, value: 'late@example.org' }] },
        ],
        sorts: [],
        properties: ['email'],
        limit: 10,
        after: '0',
      });
    expect((await search()).total).toBe(0);
    fake.clock.advance(1000);
    expect((await search()).total).toBe(1);
  });

  it('lists and creates properties; a write naming a missing one fails until it exists', async () => {
    const properties = await client.crm.properties.coreApi.getAll('contacts');
    expect(properties.results.map((p) => p.name)).toContain('email');

    const write = () =>
      client.crm.contacts.basicApi.create({
        properties: { email: 'p@example.org', favourite_colour: 'teal' },
        associations: [],
      });
    const error = await apiError(write());
    expect(error.code).toBe(400);
    expect(error.body.category).toBe('VALIDATION_ERROR');
    expect(String(error.body.message)).toMatch(
      /^Property values were not valid: \[.*"PROPERTY_DOESNT_EXIST".*"name":"favourite_colour"/,
    );

    await client.crm.properties.coreApi.create('contacts', {
      name: 'favourite_colour',
      label: 'Favourite colour',
      type: 'string' as never,
      fieldType: 'text' as never,
      groupName: 'contactinformation',
    });
    expect((await write()).properties.favourite_colour).toBe('teal');
    expect(
      (
        await apiError(
          client.crm.properties.coreApi.create('contacts', {
            name: 'favourite_colour',
            label: 'again',
            type: 'string' as never,
            fieldType: 'text' as never,
            groupName: 'x',
          }),
        )
      ).code,
    ).toBe(409);
  });

  it('associates records through v4, one and in batches, and reads them back', async () => {
    const [contact] = (await client.crm.contacts.basicApi.getPage(1)).results;
    const companies = (await client.crm.companies.basicApi.getPage(3)).results;
    // The seed linked each contact to one company already.
    const before = await client.crm.associations.v4.basicApi.getPage('contacts', contact!.id, 'companies');
    expect(before.results).toHaveLength(1);
    await client.crm.associations.v4.basicApi.createDefault(
      'contacts',
      contact!.id,
      'companies',
      companies[1]!.id,
    );
    await client.crm.associations.v4.batchApi.create('contacts', 'companies', {
      inputs: [
        {
          _from: { id: contact!.id },
          to: { id: companies[2]!.id },
          types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 279 }],
        },
      ],
    });
    const after = await client.crm.associations.v4.batchApi.getPage('contacts', 'companies', {
      inputs: [{ id: contact!.id }],
    });
    expect(after.results[0]!.to.map((t) => String(t.toObjectId)).sort()).toEqual(
      companies.map((c) => c.id).sort(),
    );
    // The inverse side sees it too.
    const back = await client.crm.associations.v4.basicApi.getPage('companies', companies[2]!.id, 'contacts');
    expect(back.results.map((r) => String(r.toObjectId))).toContain(contact!.id);
  });

  it('reads the owners', async () => {
    const owners = await client.crm.owners.ownersApi.getPage();
    expect(owners.results.map((o) => o.email)).toContain('ada@example.com');
  });

  it('configures webhooks and receives v3-signed arrays the SDK verifies', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const developer = new Client({ developerApiKey: 'any-developer-key', basePath: fake.url });
      await developer.webhooks.settingsApi.configure(fake.hubspot.appId, {
        targetUrl: receiver.url,
        throttling: { maxConcurrentRequests: 10 },
      });
      await developer.webhooks.subscriptionsApi.create(fake.hubspot.appId, {
        eventType: 'contact.creation' as never,
        active: true,
      });
      await client.crm.contacts.basicApi.create({
        properties: { email: 'hook@example.org' },
        associations: [],
      });
      fake.hubspot.webhooks.flush();
      await receiver.waitFor(1);
      const { headers, body } = receiver.received[0]!;
      const events = JSON.parse(body.toString('utf8'));
      expect(events[0]).toMatchObject({
        subscriptionType: 'contact.creation',
        attemptNumber: 0,
        portalId: 62515,
        appId: 54321,
      });
      expect(
        Signature.isValid({
          signatureVersion: 'v3',
          signature: String(headers['x-hubspot-signature-v3']),
          clientSecret: DEFAULT_CLIENT_SECRET,
          requestBody: body.toString('utf8'),
          method: 'POST',
          url: receiver.url,
          timestamp: Number(headers['x-hubspot-request-timestamp']),
        }),
      ).toBe(true);
      expect(
        Signature.isValid({
          signature: String(headers['x-hubspot-signature']),
          clientSecret: DEFAULT_CLIENT_SECRET,
          requestBody: body.toString('utf8'),
        }),
      ).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});

describe("the SDK's retry decorator against the fake's 429s", () => {
  /** Lets the SDK's own wait pass without waiting: its timers run on vitest's clock, the fake's time moves with them. */
  async function skipSdkWait(ms: number, whenCounted: string) {
    for (let i = 0; i < 400 && !(((await stats()).counters[whenCounted] ?? 0) >= 1); i++)
      await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    fake.clock.advance(ms);
    await vi.advanceTimersByTimeAsync(ms);
  }

  it('waits out a TEN_SECONDLY_ROLLING 429 and retries', async () => {
    // Fill the starter tier's 100 per 10 s with plain calls.
    await Promise.all(
      Array.from({ length: 100 }, () =>
        fetch(`${fake.url}/crm/v3/objects/contacts?limit=1`, {
          headers: { authorization: 'Bearer pat-na1-11111111-2222-3333-4444-555555555555' },
        }),
      ),
    );
    vi.useFakeTimers({ toFake: ['setTimeout'], shouldAdvanceTime: true });
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const retrying = new Client({
      accessToken: 'pat-na1-11111111-2222-3333-4444-555555555555',
      basePath: fake.url,
      numberOfApiCallRetries: 2,
    });
    const page = retrying.crm.contacts.basicApi.getPage(1);
    await skipSdkWait(10_000, '429:TEN_SECONDLY_ROLLING');
    expect((await page).results).toHaveLength(1);
    const counters = (await stats()).counters;
    expect(counters['429:TEN_SECONDLY_ROLLING']).toBe(1);
    expect(counters['status:200']).toBe(101);
  });

  it("waits a second after the search bucket's 'secondly limit' 429", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'], shouldAdvanceTime: true });
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const retrying = new Client({ accessToken: 'pat-na1-x', basePath: fake.url, numberOfApiCallRetries: 2 });
    const search = () =>
      retrying.crm.contacts.searchApi.doSearch({
        filterGroups: [],
        sorts: [],
        properties: [],
        limit: 1,
        after: '0',
      });
    for (let i = 0; i < 5; i++) await search();
    const sixth = search();
    await skipSdkWait(1000, '429:SECONDLY');
    expect((await sixth).total).toBe(250);
    expect((await stats()).counters['429:SECONDLY']).toBe(1);
  });

  it('fails at once on a DAILY 429, as the SDK does on HubSpot', async () => {
    await fetch(`${fake.url}/_fake/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dailyRemaining: 0 }),
    });
    const retrying = new Client({ accessToken: 'pat-na1-x', basePath: fake.url, numberOfApiCallRetries: 3 });
    const error = await apiError(retrying.crm.contacts.basicApi.getPage(1));
    expect(error.code).toBe(429);
    expect(error.body).toMatchObject({
      policyName: 'DAILY',
      errorType: 'RATE_LIMIT',
      message: 'You have reached your daily limit.',
    });
    expect((await stats()).counters['429:DAILY']).toBe(1);
  });

  it('answers 401 INVALID_AUTHENTICATION without a bearer, and to another token when started with one', async () => {
    const anonymous = await fetch(`${fake.url}/crm/v3/objects/contacts`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({
      status: 'error',
      category: 'INVALID_AUTHENTICATION',
      message: expect.stringMatching(/^Authentication credentials not found/),
    });
    const strict = await startHubSpotFake({ token: 'pat-na1-right' });
    try {
      const wrong = new Client({ accessToken: 'pat-na1-wrong', basePath: strict.url });
      expect((await apiError(wrong.crm.contacts.basicApi.getPage(1))).code).toBe(401);
      const right = new Client({ accessToken: 'pat-na1-right', basePath: strict.url });
      expect((await right.crm.contacts.basicApi.getPage(1)).results).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});
