import type { HubSpotFakeOptions } from '../../../src/connectors/hubspot/fake/index.js';
import { ConnectorClients } from '../../../src/connectors/index.js';
import { MemoryRateLimitStore } from '../../../src/resilience/rate-limit-store.js';
import type { Database } from '../../../src/store/database.js';
import { type RunningHubSpotFake, startHubSpotFake } from '../../../src/testing/index.js';
import { dialects, migratedDatabase } from '../../helpers/databases.js';
import { openTestVault, type TestVault } from '../../helpers/vault.js';

/** A vault with a `provider: hubspot` connection `crm` on a fresh fake, and the clients factory over it. */
export interface HubSpotWorld {
  fake: RunningHubSpotFake;
  vault: TestVault;
  database: Database;
  clients: ConnectorClients;
  stats(): Promise<{ counters: Record<string, number> }>;
  close(): Promise<void>;
}

export async function hubspotWorld(
  options: HubSpotFakeOptions = {},
  metadata: Record<string, unknown> = {},
): Promise<HubSpotWorld> {
  const fake = await startHubSpotFake({ searchLagMs: 0, ...options });
  const { database, cleanup } = await migratedDatabase(dialects[0]!);
  const vault = await openTestVault(database);
  await vault.connections.create({
    id: 'crm',
    provider: 'hubspot',
    baseUrl: fake.url,
    auth: { scheme: 'bearer', token: 'pat-na1-world' },
    metadata,
  });
  const clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits: new MemoryRateLimitStore(),
  });
  return {
    fake,
    vault,
    database,
    clients,
    stats: async () =>
      (await (await fetch(`${fake.url}/_fake/stats`)).json()) as { counters: Record<string, number> },
    async close() {
      await clients.close();
      await fake.close();
      await cleanup();
    },
  };
}
