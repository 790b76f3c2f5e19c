import { ConnectorClients, type ConnectorClientsOptions } from '../../src/connectors/index.js';
import { MemoryRateLimitStore, type RateLimitStore } from '../../src/resilience/rate-limit-store.js';
import { type Database, openDatabase } from '../../src/store/database.js';
import { SqlRateLimitStore } from '../../src/store/limits/index.js';
import { openVault, type VaultServices } from '../../src/vault/index.js';

export interface FixtureClientsOptions {
  /**
   * Where the connections' limits are counted: `shared` in the database, as the engine does across
   * processes, or `local` to this process. Defaults to local.
   */
  limits?: 'shared' | 'local';
  http?: ConnectorClientsOptions['http'];
}

export interface FixtureClients {
  database: Database;
  vault: VaultServices;
  clients: ConnectorClients;
  /** The arguments after the first three. */
  args: string[];
  close(): Promise<void>;
}

/**
 * What a fixture process (`test/fixtures/*.ts`) opens from its arguments
 * `<database-url> <key-text> <data-dir> …`: the test's database, its vault with that key, and
 * ConnectorClients over the vault's connections (loopback base URLs allowed, as the fakes listen there).
 */
export async function openFixtureClients(
  argv: string[],
  options: FixtureClientsOptions = {},
): Promise<FixtureClients> {
  const [url, keyText, dataDir, ...args] = argv;
  if (!url || !keyText || !dataDir) throw new Error('usage: <database-url> <key-text> <data-dir> …');
  const database = await openDatabase(url);
  const vault = await openVault({
    database,
    env: { PATCHBAY_ENCRYPTION_KEY: keyText },
    dataDir,
    settings: { allowInsecureLoopback: true },
  });
  const rateLimits: RateLimitStore =
    options.limits === 'shared' ? new SqlRateLimitStore(database) : new MemoryRateLimitStore();
  const clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits,
    ...(options.http && { http: options.http }),
  });
  return {
    database,
    vault,
    clients,
    args,
    async close() {
      await clients.close();
      await database.close();
    },
  };
}
