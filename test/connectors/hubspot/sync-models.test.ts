import { afterEach, describe, expect, it } from 'vitest';
import {
  type CrmRecord,
  hubspotContacts,
  hubspotDeals,
  hubspotObjects,
} from '../../../src/connectors/hubspot/index.js';
import { type Clock, systemClock } from '../../../src/core/clock.js';
import { defineSync, type SyncDefinition } from '../../../src/sync/index.js';
import type { AnySyncModel } from '../../../src/sync/sync-model.js';
import type { SyncService } from '../../../src/sync/sync-service.js';
import { dialects } from '../../helpers/databases.js';
import { type SyncHarness, serviceHarness, storedRecords } from '../../sync/helpers.js';
import { type HubSpotWorld, hubspotWorld } from './helpers.js';

let world: HubSpotWorld;
let h: SyncHarness & { service: SyncService };
afterEach(async () => {
  await h?.cleanup();
  await world?.close();
});

async function open(
  model: AnySyncModel,
  options: Record<string, unknown> = {},
  fakeOptions: Parameters<typeof hubspotWorld>[0] = {},
  clock?: Clock,
): Promise<SyncDefinition> {
  world = await hubspotWorld(fakeOptions);
  h = await serviceHarness(dialects[0]!, {
    clients: { crm: await world.clients.client('crm') },
    ...(clock && { clock }),
  });
  const sync = defineSync({
    id: 'crm',
    connection: 'crm',
    model: model.name,
    ...model.define(optionsOf(model, options)),
  });
  await h.service.define(sync);
  await h.service.start({ schedule: false });
  return sync;
}

function optionsOf(model: AnySyncModel, options: unknown) {
  const parsed = model.options!.safeParse(options);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
  return parsed.data;
}

const seed = (body: unknown) =>
  fetch(`${world.fake.url}/_fake/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const requests = async () => (await world.stats()).counters.requests ?? 0;
const stored = async () => (await storedRecords(h.stores, 'crm')) as Map<string, CrmRecord>;
const crm = () => world.fake.hubspot.store;
const live = (type: string) => [...crm().type(type).records.values()].filter((r) => !r.archived);

describe('hubspot.contacts', () => {
  it('lists every contact on its first run, with its companies, one list page per 100', async () => {
    await open(hubspotContacts);
    await seed({ contacts: 250, companies: 30 });
    const before = await requests();
    const run = await h.service.runNow('crm');
    expect(run).toMatchObject({ status: 'succeeded', mode: 'incremental', counts: { created: 250 } });
    expect((await requests()) - before).toBe(3);
    const records = await stored();
    expect(records.size).toBe(250);
    const { associations } = world.fake.hubspot;
    const contactType = crm().type('contacts').type;
    const companyType = crm().type('companies').type;
    for (const contact of live('contacts')) {
      const record = records.get(contact.id)!;
      expect(record.properties.email).toBe(contact.properties.email);
      expect(record.properties).toHaveProperty('lifecyclestage', null);
      expect(record.associations.companies).toEqual(
        associations.list(contactType, contact.id, companyType).map((a) => a.toObjectId),
      );
    }
    expect(records.get(live('contacts')[0]!.id)!.associations.companies).toHaveLength(1);
  });

  it('reads what changed since by search, and archived contacts as deletes', async () => {
    await open(hubspotContacts, { lookback: '10s' });
    await seed({ contacts: 250, companies: 10 });
    await h.service.runNow('crm');
    world.fake.clock.advance(60_000);
    const contacts = crm().type('contacts');
    const [a, b, c] = live('contacts');
    crm().update(contacts, a!, { firstname: 'Renamed' });
    crm().update(contacts, b!, { lifecyclestage: 'customer' });
    crm().archive(contacts, c!);
    const made = crm().create(contacts, { email: 'new@example.com', firstname: 'New' });
    world.fake.clock.advance(2_000);
    const before = await requests();
    const run = await h.service.runNow('crm');
    expect(run).toMatchObject({
      status: 'succeeded',
      mode: 'incremental',
      counts: { created: 1, updated: 2, deleted: 1 },
    });
    // One search page, its companies in one v4 batch, the archived list in one page.
    expect((await requests()) - before).toBe(3);
    const records = await stored();
    expect(records.size).toBe(250);
    expect(records.get(a!.id)!.properties.firstname).toBe('Renamed');
    expect(records.get(b!.id)!.properties.lifecyclestage).toBe('customer');
    expect(records.has(c!.id)).toBe(false);
    expect(records.get(made.id)!.properties.email).toBe('new@example.com');
    const events = (await h.events('crm')).map((e) => e.type);
    expect(events.filter((t) => t === 'crm.record.deleted')).toHaveLength(1);

    // Nothing changed: the lookback re-reads the last seconds and finds nothing new; no event.
    const again = await h.service.runNow('crm');
    expect(again).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 0, deleted: 0 } });
    expect((await h.events('crm')).length).toBe(events.length);
  });

  it('a full read lists everything again and deletes what HubSpot no longer has', async () => {
    await open(hubspotContacts);
    await seed({ contacts: 120, associate: false });
    await h.service.runNow('crm');
    const contacts = crm().type('contacts');
    for (const record of live('contacts').slice(0, 5)) crm().archive(contacts, record);
    const run = await h.service.runNow('crm', { mode: 'full' });
    expect(run).toMatchObject({ status: 'succeeded', mode: 'full', counts: { deleted: 5 } });
    expect((await stored()).size).toBe(115);
  });

  it('starts the listing over when its paging cursor has expired, and converges', async () => {
    await open(hubspotContacts, {}, { cursorTtlMs: 60_000 });
    await seed({ contacts: 350, associate: false });
    // The first run stops after its first page (as if the process had stopped), keeping that page.
    const stop = new AbortController();
    const first = await h.service.runNow('crm', {
      signal: stop.signal,
      onProgress: () => stop.abort(new Error('stopped')),
    });
    expect(first.status).not.toBe('succeeded');
    expect((await stored()).size).toBe(100);
    // An hour later HubSpot no longer takes the cursor the checkpoint holds.
    world.fake.clock.advance(3_600_000);
    const contacts = crm().type('contacts');
    crm().archive(contacts, live('contacts')[0]!);
    // The run began incremental (resuming the listing) and went on as a full read.
    const run = await h.service.runNow('crm');
    expect(run).toMatchObject({ status: 'succeeded' });
    const records = await stored();
    expect([...records.keys()].sort()).toEqual(
      live('contacts')
        .map((r) => r.id)
        .sort(),
    );
    const [report] = await h.stores.runs.list('crm', { limit: 1 });
    expect(report?.report).toMatchObject({ cursorRestarts: 1 });
  });

  it('pushes local writes by batch upsert on email: new contacts created, per-record failures kept', async () => {
    await open(hubspotContacts, { idProperty: 'email' });
    await seed({ contacts: 20, associate: false });
    await h.service.runNow('crm');
    const records = await stored();
    const existing = records.get('contact3@example.com')!;
    expect(existing).toBeDefined();
    const result = await h.service.write('crm', [
      { data: { ...existing, properties: { ...existing.properties, firstname: 'Local' } } },
      {
        data: {
          id: 'new',
          properties: { email: 'fresh@example.com', firstname: 'Fresh' },
          associations: {},
          createdAt: '',
          updatedAt: '',
        },
      },
      {
        data: {
          id: 'bad',
          properties: { email: 'bad@example.com', favourite_colour: 'teal' },
          associations: {},
          createdAt: '',
          updatedAt: '',
        },
      },
    ]);
    expect(result.accepted).toHaveLength(3);
    const run = await h.service.runNow('crm');
    expect(run).toMatchObject({ status: 'succeeded', counts: { pushed: 2, pushFailed: 1 } });
    const contacts = crm().type('contacts');
    expect(crm().byUnique(contacts, 'email', 'contact3@example.com')!.properties.firstname).toBe('Local');
    const fresh = crm().byUnique(contacts, 'email', 'fresh@example.com')!;
    expect(fresh.properties.firstname).toBe('Fresh');
    expect(crm().byUnique(contacts, 'email', 'bad@example.com')).toBeUndefined();
    // The new contact is stored with the id HubSpot gave it.
    expect((await stored()).get('fresh@example.com')!.id).toBe(fresh.id);
    const changes = await h.service.changes('crm', { limit: 10 });
    expect(changes.find((c) => c.externalId === 'bad@example.com')).toMatchObject({
      status: 'failed',
      lastError: expect.stringMatching(/VALIDATION_ERROR.*favourite_colour/),
    });

    // Reading our own writes back is no change (echo suppression).
    world.fake.clock.advance(2_000);
    const again = await h.service.runNow('crm');
    expect(again).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 0, conflicts: 0 } });
  });

  it('creates a missing custom property and writes again when createMissingProperties is set', async () => {
    await open(hubspotContacts, { idProperty: 'email', createMissingProperties: true });
    await seed({ contacts: 3, associate: false });
    await h.service.runNow('crm');
    const existing = (await stored()).get('contact1@example.com')!;
    await h.service.write('crm', [
      { data: { ...existing, properties: { ...existing.properties, loyalty_tier: 'gold' } } },
    ]);
    const run = await h.service.runNow('crm');
    expect(run).toMatchObject({ status: 'succeeded', counts: { pushed: 1, pushFailed: 0 } });
    const contacts = crm().type('contacts');
    expect(contacts.properties.has('loyalty_tier')).toBe(true);
    expect(crm().byUnique(contacts, 'email', 'contact1@example.com')!.properties.loyalty_tier).toBe('gold');
  });

  it('by HubSpot id, updates by batch and refuses a new record naming why', async () => {
    await open(hubspotContacts);
    await seed({ contacts: 5, associate: false });
    await h.service.runNow('crm');
    const [first] = [...(await stored()).values()];
    await h.service.write('crm', [
      { data: { ...first!, properties: { ...first!.properties, phone: '+44 20 0000' } } },
      {
        data: {
          id: '999999',
          properties: { email: 'x@example.com' },
          associations: {},
          createdAt: '',
          updatedAt: '',
        },
      },
      { id: [...(await stored()).keys()][1]!, delete: true },
    ]);
    const run = await h.service.runNow('crm');
    expect(run).toMatchObject({ status: 'succeeded', counts: { pushed: 2, pushFailed: 1 } });
    expect(crm().get('contacts', first!.id)!.properties.phone).toBe('+44 20 0000');
    expect(live('contacts')).toHaveLength(4);
    const changes = await h.service.changes('crm', { limit: 10 });
    expect(changes.find((c) => c.externalId === '999999')).toMatchObject({
      status: 'failed',
      lastError: expect.stringMatching(/only be created by a sync with idProperty/),
    });
  });
});

describe('hubspot.deals and hubspot.objects', () => {
  it('keeps the contacts and companies of each deal, read by v4 batches in incremental runs', async () => {
    await open(hubspotDeals, { lookback: '5s' });
    await seed({ contacts: 20, companies: 5, deals: 15 });
    await h.service.runNow('crm');
    const deal = live('deals')[4]!;
    const contact = live('contacts')[9]!;
    const { associations } = world.fake.hubspot;
    const types = (name: string) => crm().type(name).type;
    world.fake.clock.advance(30_000);
    associations.associate(types('deals'), deal.id, types('contacts'), contact.id, [
      associations.defaultType(types('deals'), types('contacts')),
    ]);
    crm().update(crm().type('deals'), deal, { amount: '4242' });
    world.fake.clock.advance(2_000);
    const run = await h.service.runNow('crm');
    expect(run).toMatchObject({ status: 'succeeded', counts: { updated: 1 } });
    const record = (await stored()).get(deal.id)!;
    expect(record.properties.amount).toBe('4242');
    expect(record.associations.contacts).toContain(contact.id);
    expect(record.associations.companies).toHaveLength(1);
  });

  it('lists every record again once associationsEvery has passed, so association-only changes arrive', async () => {
    // The engine's clock, moved by hand: the hours between runs pass at once.
    let hours = 0;
    const clock: Clock = { now: () => Date.now() + hours * 3_600_000, sleep: systemClock.sleep };
    await open(hubspotContacts, { lookback: '5s', associationsEvery: '6h' }, {}, clock);
    await seed({ contacts: 150, companies: 5 });
    await h.service.runNow('crm');
    const contact = live('contacts')[7]!;
    const { associations } = world.fake.hubspot;
    const types = (name: string) => crm().type(name).type;
    const company = live('companies').find(
      (c) =>
        !associations
          .list(types('contacts'), contact.id, types('companies'))
          .some((a) => a.toObjectId === c.id),
    )!;
    world.fake.clock.advance(30_000);
    // An association made alone: HubSpot leaves the contact's last-modified date as it was.
    associations.associate(types('contacts'), contact.id, types('companies'), company.id, [
      associations.defaultType(types('contacts'), types('companies')),
    ]);
    const companiesOf = async () => (await stored()).get(contact.id)!.associations.companies;

    hours = 5;
    const unseen = await h.service.runNow('crm');
    expect(unseen).toMatchObject({ status: 'succeeded', mode: 'incremental', counts: { updated: 0 } });
    expect(await companiesOf()).not.toContain(company.id);

    hours = 6.5;
    const searches = () => world.fake.hubspot.buckets.stats.search.requests;
    let before = { requests: await requests(), searches: searches() };
    const relisted = await h.service.runNow('crm');
    expect(relisted).toMatchObject({
      status: 'succeeded',
      mode: 'incremental',
      counts: { pages: 2, updated: 1, deleted: 0 },
    });
    // Two list pages, no search.
    expect({
      requests: (await requests()) - before.requests,
      searches: searches() - before.searches,
    }).toEqual({
      requests: 2,
      searches: 0,
    });
    expect(await companiesOf()).toContain(company.id);

    // The next runs search again, until 6 h have passed since that listing began.
    hours = 12;
    before = { requests: await requests(), searches: searches() };
    await h.service.runNow('crm');
    expect(searches() - before.searches).toBe(1);
  });

  it('never lists again with associationsEvery: false', () => {
    const parsed = hubspotContacts.options!.safeParse({ associationsEvery: false });
    expect(parsed).toMatchObject({ success: true, data: { associationsEvery: false } });
    const bad = hubspotContacts.options!.safeParse({ associationsEvery: 'daily' });
    expect(bad.success ? [] : bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'associationsEvery: associationsEvery must be a duration like "500ms", "5s", "2h" or "7d", or false, got "daily"',
    ]);
  });

  it('hubspot.objects syncs another type (tickets) with the properties it names, then its changes', async () => {
    await open(hubspotObjects, { type: 'tickets', properties: ['subject', 'hs_pipeline_stage'] });
    await seed({ tickets: 130 });
    expect(await h.service.runNow('crm')).toMatchObject({ status: 'succeeded', counts: { created: 130 } });
    const tickets = crm().type('tickets');
    const ticket = live('tickets')[7]!;
    world.fake.clock.advance(30_000);
    crm().update(tickets, ticket, { hs_pipeline_stage: '4' });
    world.fake.clock.advance(2_000);
    expect(await h.service.runNow('crm')).toMatchObject({ status: 'succeeded', counts: { updated: 1 } });
    const record = (await stored()).get(ticket.id)!;
    expect(record.properties).toMatchObject({ subject: ticket.properties.subject, hs_pipeline_stage: '4' });
    expect(record.associations).toEqual({});
  });

  it('refuses an unknown object type, a bad lookback and unknown options, naming the field', () => {
    const problems = (options: unknown) => {
      const parsed = hubspotObjects.options!.safeParse(options);
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ type: 'widgets' })).toEqual([
      expect.stringMatching(/^type: "widgets" is not a HubSpot object type/),
    ]);
    expect(problems({ type: 'tickets', lookback: 'soon' })).toEqual([
      'lookback: lookback must be a duration like "500ms", "5s", "2h" or "7d", got "soon"',
    ]);
    expect(problems({ type: 'tickets', colour: 1 })).toEqual([expect.stringMatching(/colour/)]);
    expect(problems({ type: 'p123_cars', properties: ['make'] })).toEqual([]);
    expect(hubspotContacts.define(optionsOf(hubspotContacts, { webhookSource: 'hs' })).triggers).toEqual([
      'hs.contact.*',
    ]);
  });
});
