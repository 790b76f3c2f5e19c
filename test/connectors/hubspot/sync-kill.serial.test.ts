import { afterEach, describe, expect, it } from 'vitest';
import type { CrmRecord } from '../../../src/connectors/hubspot/index.js';
import { openSyncStores } from '../../../src/store/sync/index.js';
import { type RunningHubSpotFake, startHubSpotFake } from '../../../src/testing/index.js';
import { allDialects, migratedDatabase } from '../../helpers/databases.js';
import { until } from '../../helpers/fixture-process.js';
import { kill, type SyncProcess, seeded, startSyncProcess } from '../../helpers/kill-loop.js';
import { openTestVault, tempDataDir } from '../../helpers/vault.js';
import { storedRecords } from '../../sync/helpers.js';

/**
 * The sync issue's kill test against the HubSpot fake: a process syncing hubspot.contacts is SIGKILLed
 * at random moments — three times while its first run lists 3,000 contacts, three times during
 * incremental runs while HubSpot's records are created, updated and archived — and started again each
 * time. Once the changes stop, the next complete run leaves the store equal to the fake's live contacts:
 * the same ids, the same values, the same associations.
 */
const CONTACTS = 3000;
const LEASE_MS = 3000;

const FIXTURE = new URL('../../fixtures/hubspot-sync-process.ts', import.meta.url);
const SYNCS = JSON.stringify([
  { id: 'contacts', model: 'hubspot.contacts', options: { lookback: '5s', properties: ['hs_lead_status'] } },
]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const processes: SyncProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const { child } of processes.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`HubSpot contacts sync killed at random moments, on ${dialect.name}`, () => {
    it('ends equal to the fake after 6 SIGKILLs during the first sync and incremental runs', {
      timeout: 300_000,
    }, async () => {
      const random = seeded(17);
      const fake: RunningHubSpotFake = await startHubSpotFake({
        tier: 'enterprise',
        searchLagMs: 300,
        seed: { contacts: CONTACTS, companies: 100 },
      });
      cleanups.push(() => fake.close());
      // List pages take 200 ms, as HubSpot's can: on a fast machine the first sync must still outlast the kills.
      await fetch(`${fake.url}/_fake/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'GET', path: '/crm/v3/objects/contacts', delayMs: 200, times: 0 }),
      });
      const { database, testDb, cleanup } = await migratedDatabase(dialect);
      cleanups.push(cleanup);
      const vault = await openTestVault(database);
      await vault.connections.create({
        id: 'crm',
        provider: 'hubspot',
        baseUrl: fake.url,
        auth: { scheme: 'bearer', token: 'pat-na1-kill' },
        metadata: { tier: 'enterprise' },
      });
      const stores = openSyncStores(database);
      const crm = fake.hubspot.store;
      const contacts = crm.type('contacts');
      const live = () => [...contacts.records.values()].filter((r) => !r.archived);
      let made = 0;
      const change = () => {
        const roll = random();
        const records = live();
        const pick = records[Math.floor(random() * records.length)]!;
        if (roll < 0.3) crm.create(contacts, { email: `made${++made}@example.com`, firstname: 'Made' });
        else if (roll < 0.85)
          crm.update(contacts, pick, { firstname: `Changed ${Math.floor(random() * 1e6)}` });
        else crm.archive(contacts, pick);
      };

      let spawned = 0;
      const start = () =>
        startSyncProcess(
          FIXTURE,
          [testDb.url, vault.key, tempDataDir(), `child-${++spawned}`, String(LEASE_MS), SYNCS],
          processes,
        );
      const count = () => stores.records.count('contacts', {});
      const waitFor = (what: string, check: () => Promise<boolean> | boolean) => until(what, check, 120_000);

      // The first run lists the contacts, 100 a page: killed mid-listing, between commits.
      for (let i = 0; i < 3; i++) {
        const before = await count();
        const { child } = start();
        await waitFor('a page committed', async () => (await count()) > before);
        await sleep(random() * 400);
        await kill(child);
        for (let j = 0; j < 15; j++) change();
      }
      expect(await count()).toBeLessThan(CONTACTS);

      // Incremental runs while HubSpot changes, killed at random moments of a run.
      let changing = true;
      const changer = (async () => {
        while (changing) {
          change();
          await sleep(30 + random() * 60);
        }
      })();
      for (let i = 0; i < 3; i++) {
        const { child, runs } = start();
        await waitFor('a run ended', () => runs().some((r) => r.status !== 'busy'));
        await sleep(random() * 1500);
        await kill(child);
      }
      changing = false;
      await changer;
      const lastChange = Date.now();

      // The changes have stopped: a run started after they are all searchable brings the store level.
      const { child, runs } = start();
      await waitFor('a complete run after the last change', () =>
        runs().some((r) => r.status === 'succeeded' && r.startedAt > lastChange + 1000),
      );
      await kill(child);
      expect(runs().filter((r) => r.status === 'failed')).toEqual([]);

      const stored = (await storedRecords(stores, 'contacts')) as Map<string, CrmRecord>;
      const expected = live();
      expect([...stored.keys()].sort()).toEqual(expected.map((r) => r.id).sort());
      const { associations } = fake.hubspot;
      const companyType = crm.type('companies').type;
      for (const record of expected) {
        const mine = stored.get(record.id)!;
        expect(mine.properties).toMatchObject({
          email: record.properties.email ?? null,
          firstname: record.properties.firstname ?? null,
        });
        expect(mine.associations.companies).toEqual(
          associations.list(contacts.type, record.id, companyType).map((a) => a.toObjectId),
        );
      }
      console.log(
        `${dialect.name}: ${spawned} processes, 6 killed; ${made} created, ${CONTACTS + made - expected.length} archived; store = fake (${expected.length} contacts)`,
      );
    });
  });
}
