import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHubSpotFake, startHubSpotFake } from '../../../src/testing/index.js';
import { freePort } from '../../helpers/cli.js';
import { dialects } from '../../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../../helpers/engine.js';
import { eventually } from '../../helpers/eventually.js';

/**
 * The webhook preset end to end: the fake's app posts v3-signed arrays (duplicates, shuffled) to a
 * `hubspot-v3` source of a listening engine; the sync of the object type the events name runs
 * (trigger `event`, once for the burst) and reads the change; the other sync does not run.
 */
describe('HubSpot webhooks trigger the sync of the object they name', () => {
  let fake: RunningHubSpotFake;
  let t: TestEngine;
  let publicUrl: string;

  beforeAll(async () => {
    fake = await startHubSpotFake({ searchLagMs: 0, seed: 20, webhooks: { duplicateRate: 0.5 } });
    // The engine's public URL must be known before its config is (v3 signs it): a port free a moment ago.
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    t = await openTestEngine(dialects[0]!, {
      syncRuns: { pollInterval: '50ms' },
      vault: { allowedNetworks: ['127.0.0.0/8'] },
      connections: [
        {
          id: 'crm',
          provider: 'hubspot',
          baseUrl: fake.url,
          auth: { scheme: 'bearer', token: 'pat-na1-webhooks' },
        },
      ],
      sources: [
        { id: 'hs', verify: { scheme: 'hubspot-v3', secrets: [fake.hubspot.clientSecret], publicUrl } },
      ],
      syncs: [
        {
          id: 'contacts',
          connection: 'crm',
          model: 'hubspot.contacts',
          options: { webhookSource: 'hs', lookback: '5s' },
        },
        { id: 'deals', connection: 'crm', model: 'hubspot.deals', options: { webhookSource: 'hs' } },
      ],
    });
    await t.engine.startWorkers();
    await t.app.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const hubspot = (method: string, path: string, body: unknown) =>
    fetch(`${fake.url}${path}?hapikey=developer-key`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('verifies the v3 signatures, dedupes the repeats and runs the contacts sync for contact events', async () => {
    const { syncs } = t.engine;
    expect(await syncs.runNow('contacts')).toMatchObject({ status: 'succeeded', counts: { created: 20 } });
    expect(await syncs.runNow('deals')).toMatchObject({ status: 'succeeded' });
    const appId = fake.hubspot.appId;
    expect(
      (await hubspot('PUT', `/webhooks/v3/${appId}/settings`, { targetUrl: `${publicUrl}/webhooks/hs` }))
        .status,
    ).toBe(200);
    for (const subscription of [
      { eventType: 'contact.propertyChange', propertyName: 'firstname' },
      { eventType: 'contact.creation' },
    ]) {
      expect((await hubspot('POST', `/webhooks/v3/${appId}/subscriptions`, subscription)).status).toBe(201);
    }

    const store = fake.hubspot.store;
    const contacts = store.type('contacts');
    const changed = [...contacts.records.values()].slice(0, 3);
    fake.clock.advance(10_000);
    for (const record of changed) store.update(contacts, record, { firstname: `Hooked ${record.id}` });
    const made = store.create(contacts, { email: 'hooked@example.com', firstname: 'New' });
    fake.hubspot.webhooks.flush();

    const status = await eventually(
      () => syncs.status('contacts'),
      (s) => s.lastRun?.trigger === 'event' && s.lastRun.status === 'succeeded',
    );
    expect(status.lastRun).toMatchObject({ created: 1, updated: 3 });
    const stats = fake.hubspot.webhooks.stats;
    expect(stats.failedPosts).toBe(0);
    // 3 changes and 1 creation (whose firstname is a change too), some posted twice: stored once each.
    const events = await t.engine.events.list({ source: 'hs', limit: 100 });
    expect(events.map((e) => e.type).sort()).toEqual([
      'contact.creation',
      'contact.propertyChange',
      'contact.propertyChange',
      'contact.propertyChange',
      'contact.propertyChange',
    ]);
    expect(stats.delivered).toBeGreaterThan(events.length);
    const record = await syncs.record('contacts', made.id);
    expect(JSON.parse(record.data)).toMatchObject({ properties: { email: 'hooked@example.com' } });
    const runs = await syncs.runs('contacts', { limit: 10 });
    expect(runs.filter((r) => r.trigger === 'event')).toHaveLength(1);
    expect((await syncs.runs('deals', { limit: 10 })).filter((r) => r.trigger === 'event')).toHaveLength(0);
  });
});
