import { afterEach, describe, expect, it } from 'vitest';
import type { HubSpotApi } from '../../../src/connectors/index.js';
import { ErrorCode } from '../../../src/core/errors.js';
import { isCursorExpired } from '../../../src/sync/index.js';
import { rejection } from '../../http/helpers.js';
import { type HubSpotWorld, hubspotWorld } from './helpers.js';

let world: HubSpotWorld;
let api: HubSpotApi;
afterEach(async () => {
  await world?.close();
});

async function open(...args: Parameters<typeof hubspotWorld>) {
  world = await hubspotWorld(...args);
  api = await world.clients.hubspot('crm');
}

describe('HubSpot calls: objects', () => {
  it('creates, reads, updates and archives, coercing values to strings', async () => {
    await open();
    const created = await api.contacts.create({
      email: 'a@example.com',
      firstname: 'Ada',
      lifecyclestage: 'lead',
    });
    const deal = await api.deals.create({
      dealname: 'D',
      amount: 1250,
      closedate: new Date(Date.UTC(2026, 0, 31)),
    });
    expect(deal.properties.amount).toBe('1250');
    expect(deal.properties.closedate).toBe(String(Date.UTC(2026, 0, 31)));
    const read = await api.contacts.get(created.id, { properties: ['email', 'lifecyclestage'] });
    expect(read?.properties).toMatchObject({ email: 'a@example.com', lifecyclestage: 'lead' });
    const updated = await api.contacts.update(
      'a@example.com',
      { lifecyclestage: null },
      { idProperty: 'email' },
    );
    expect(updated.properties.lifecyclestage).toBeFalsy();
    await api.contacts.archive(created.id);
    expect(await api.contacts.get(created.id)).toBeUndefined();
    expect((await api.contacts.get(created.id, { archived: true }))?.archived).toBe(true);
  });

  it('refuses a value that is not a string, number, boolean, Date or null, naming the field, before any request', async () => {
    await open();
    const error = await rejection(api.contacts.create({ email: 'b@example.com', tags: ['a', 'b'] as never }));
    expect(error).toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(
        /^properties\.tags must be a string, number, boolean, Date or null \(got an array\)/,
      ),
    });
    const batch = await rejection(
      api.contacts.batchCreate([{ properties: { email: 'x' } }, { properties: { n: { deep: 1 } as never } }]),
    );
    expect(batch.message).toMatch(/^inputs\[1\]\.properties\.n must be/);
    expect(() => api.objects('widgets')).toThrow(
      /"widgets" is not a HubSpot object type: use contacts, companies, deals, tickets/,
    );
    expect((await world.stats()).counters.requests ?? 0).toBe(0);
  });

  it('pages through every record', async () => {
    await open({ seed: { contacts: 250 } });
    const ids: string[] = [];
    for await (const contact of api.contacts.all({ properties: ['email'] })) ids.push(contact.id);
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
  });

  it('says an expired list cursor is a CursorExpiredError', async () => {
    await open({ seed: { contacts: 5 }, cursorTtlMs: 1000 });
    const first = await api.contacts.page({ limit: 2 });
    world.fake.clock.advance(1001);
    const error = await rejection(api.contacts.page({ limit: 2, after: first.after! }));
    expect(isCursorExpired(error)).toBe(true);
  });
});

describe('HubSpot calls: batches', () => {
  it('sends 250 upserts as three chunks and says which are new', async () => {
    await open({ seed: { contacts: 100 } });
    const inputs = Array.from({ length: 250 }, (_, i) => ({
      id: `contact${i + 1}@example.com`,
      properties: { firstname: `F${i}` },
    }));
    const result = await api.contacts.batchUpsert(inputs, { idProperty: 'email' });
    expect(result.outcome).toBe('success');
    expect(result.results.map((r) => r.index)).toEqual(inputs.map((_, i) => i));
    expect(result.results.filter((r) => r.record.new).length).toBe(150);
    expect((await world.stats()).counters['bucket:tenSecondly']).toBe(3);
  });

  it('reports a 207 per item: the good inputs applied, each failure with its index, id and category', async () => {
    await open({ seed: { contacts: 3 } });
    const read = await api.contacts.batchRead(['101', '999', '102', '998']);
    expect(read.outcome).toBe('partial');
    expect(read.results.map((r) => [r.index, r.record.id])).toEqual([
      [0, '101'],
      [2, '102'],
    ]);
    expect(read.failures.map((f) => [f.index, f.id, f.category])).toEqual([
      [1, '999', 'OBJECT_NOT_FOUND'],
      [3, '998', 'OBJECT_NOT_FOUND'],
    ]);

    const written = await api.contacts.batchUpdate([
      { id: '101', properties: { lifecyclestage: 'lead' } },
      { id: '102', properties: { lifecyclestage: 'not-a-stage' } },
      { id: '103', properties: { firstname: 'Kept' } },
    ]);
    expect(written.outcome).toBe('partial');
    expect(written.results.map((r) => r.index)).toEqual([0, 2]);
    expect(written.failures).toEqual([
      expect.objectContaining({
        index: 1,
        id: '102',
        category: 'VALIDATION_ERROR',
        message: expect.stringContaining('INVALID_OPTION'),
      }),
    ]);
    expect(written.error).toMatchObject({ code: ErrorCode.PARTIAL });
    expect((await api.contacts.get('103', { properties: ['firstname'] }))?.properties.firstname).toBe('Kept');
  });

  it('fails every input of a chunk whose request failed, and keeps the other chunks', async () => {
    await open();
    await fetch(`${world.fake.url}/_fake/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        rules: [
          {
            path: '/crm/v3/objects/contacts/batch/create',
            status: 403,
            body: { status: 'error', message: 'missing scope', category: 'MISSING_SCOPES' },
            times: 1,
          },
        ],
      }),
    });
    const inputs = Array.from({ length: 150 }, (_, i) => ({ properties: { email: `c${i}@example.com` } }));
    const result = await api.contacts.batchCreate(inputs, { concurrency: 1 });
    expect(result.outcome).toBe('partial');
    expect(result.failures).toHaveLength(100);
    expect(result.failures[0]).toMatchObject({
      index: 0,
      category: ErrorCode.HTTP_CLIENT_ERROR,
      message: expect.stringContaining('missing scope'),
    });
    expect(result.results.map((r) => r.index)).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
  });
});

describe('HubSpot calls: properties', () => {
  it('names the missing properties of a write, and recovers by creating them when asked', async () => {
    await open();
    const error = await rejection(
      api.contacts.create({ email: 'p@example.com', shoe_size: 44, favourite_colour: 'teal' }),
    );
    expect(error).toMatchObject({
      code: ErrorCode.UNKNOWN_PROPERTIES,
      data: { objectType: 'contacts', properties: ['shoe_size', 'favourite_colour'] },
    });
    expect(error.message).toBe(
      'HubSpot contacts has no properties "shoe_size", "favourite_colour": create them first (ensureProperties, or write with createMissingProperties)',
    );
    const created = await api.contacts.create(
      { email: 'p@example.com', shoe_size: 44 },
      { createMissingProperties: true },
    );
    expect(created.properties.shoe_size).toBe('44');

    const batch = await api.deals.batchCreate(
      [
        { properties: { dealname: 'a', region: 'EU' } },
        { properties: { dealname: 'b', region: 'US', tier_code: 'x' } },
      ],
      { createMissingProperties: true },
    );
    expect(batch.outcome).toBe('success');
    expect(batch.results.map((r) => r.record.properties.region)).toEqual(['EU', 'US']);
    expect((await api.properties.list('deals')).map((p) => p.name)).toEqual(
      expect.arrayContaining(['region', 'tier_code']),
    );
  });

  it('ensures properties once, and keeps definitions and owners cached briefly', async () => {
    await open();
    expect(await api.properties.ensure('contacts', ['plan', { name: 'seats', type: 'number' }])).toEqual([
      'plan',
      'seats',
    ]);
    expect(await api.properties.ensure('contacts', ['plan', 'seats'])).toEqual([]);
    const before = (await world.stats()).counters.requests!;
    await api.properties.list('contacts');
    await api.owners();
    await api.owners();
    expect((await world.stats()).counters.requests! - before).toBe(1);
  });
});

describe('HubSpot calls: search', () => {
  it('refuses what the search API would, without sending it', async () => {
    await open();
    const filter = { propertyName: 'email', operator: 'HAS_PROPERTY' as const };
    const groups = (n: number, each: number) =>
      Array.from({ length: n }, () => ({ filters: Array.from({ length: each }, () => filter) }));
    for (const [query, message] of [
      [{ filterGroups: groups(6, 1) }, /6 filter groups; at most 5/],
      [{ filterGroups: groups(1, 7) }, /group 0 has 7 filters; at most 6/],
      [{ filterGroups: groups(4, 5) }, /20 filters in all; at most 18/],
      [{ limit: 201 }, /limit must be 1 to 200/],
      [{ after: '10000' }, /at most 10000 results; use searchAll/],
      [
        {
          filterGroups: [
            {
              filters: [
                {
                  propertyName: 'email',
                  operator: 'IN' as const,
                  values: Array.from({ length: 200 }, (_, i) => `user${i}@example.com`),
                },
              ],
            },
          ],
        },
        /characters; at most 3000/,
      ],
    ] as const) {
      await expect(api.contacts.search(query)).rejects.toMatchObject({
        code: ErrorCode.INVALID_ARGUMENT,
        message: expect.stringMatching(message),
      });
    }
    expect((await world.stats()).counters.requests ?? 0).toBe(0);
  });

  it('reads every match past 10,000 by windows on the last-modified date', async () => {
    await open({ seed: { contacts: 12_500, associate: false, spacingMs: 3 } });
    const ids = new Set<string>();
    let pages = 0;
    for await (const page of api.contacts.searchAll({ properties: ['email'] })) {
      pages++;
      for (const r of page.results) ids.add(r.id);
    }
    expect(ids.size).toBe(12_500);
    expect(pages).toBeGreaterThanOrEqual(63);
  }, 120_000);

  it('converges when more than 10,000 share one last-modified time', async () => {
    await open({ seed: { contacts: 10_300, associate: false, spacingMs: 0 } });
    const ids = new Set<string>();
    let count = 0;
    for await (const page of api.contacts.searchAll({})) {
      count += page.results.length;
      for (const r of page.results) ids.add(r.id);
    }
    expect(ids.size).toBe(10_300);
    expect(count).toBe(10_300);
  }, 120_000);
});

describe('HubSpot calls: associations', () => {
  it('reads and makes associations, and reports a record at its limit clearly', async () => {
    await open({ seed: { contacts: 2, companies: 3 }, associationLimit: 2 });
    const read = await api.associations.read('contacts', 'companies', ['101', '102', '999']);
    expect(read.get('101')!.map((a) => a.toObjectId)).toEqual(['103']);
    expect(read.get('999')).toEqual([]);
    const made = await api.associations.create('contacts', 'companies', [
      { from: '101', to: '104' },
      { from: '101', to: '105' },
    ]);
    expect(made.created).toBe(1);
    expect(made.failures).toEqual([
      expect.objectContaining({
        category: ErrorCode.ASSOCIATION_LIMIT,
        records: expect.arrayContaining(['101']),
      }),
    ]);
    await expect(api.associations.link('contacts', '101', 'companies', '105')).rejects.toMatchObject({
      code: ErrorCode.ASSOCIATION_LIMIT,
      message: expect.stringMatching(/contact 101 already has the maximum of 2 associations to companies/),
    });
  });
});
