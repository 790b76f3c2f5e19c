import { afterEach, beforeEach } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import type { Database } from '../../../src/store/database.js';
import { FakeClock } from '../../../src/testing/index.js';
import { type TestVault, vaultPerFile } from '../../helpers/vault.js';
import { drive as driveAll } from '../../http/helpers.js';
import { type GraphClients, graphClients, graphConnection } from './connection.js';
import { startFake } from './helpers.js';

export interface GraphSuite {
  database: Database;
  vault: TestVault;
  fake: RunningMsGraphFake;
  graph: GraphClients;
  clock: FakeClock;
}

/**
 * For every test of the file: one migrated SQLite database and vault for the file, and per test a fresh
 * Graph fake (plain http), a fake clock at the real time, the `mail` connection to the fake and its
 * clients, handed to `use`; after each test the clients and the fake are closed and every connection
 * deleted.
 */
export function graphSuite(
  use: (suite: GraphSuite) => void,
  options: { sends?: { inFlightMs?: number; settleMs?: number } } = {},
): void {
  let database: Database;
  let vault: TestVault;
  let fake: RunningMsGraphFake;
  let graph: GraphClients;
  vaultPerFile((d, v) => {
    database = d;
    vault = v;
  });
  beforeEach(async () => {
    fake = await startFake({ https: false });
    const clock = new FakeClock(Date.now());
    graph = graphClients(vault, database, { clock, ...(options.sends && { sends: options.sends }) });
    await vault.connections.create(graphConnection(fake));
    use({ database, vault, fake, graph, clock });
  });
  afterEach(async () => {
    await graph.clients.close();
    await fake.close();
    for (const c of await vault.connections.list({ limit: 100 })) await vault.connections.delete(c.id);
  });
}

/**
 * Moves the fake clock through waits (Retry-After, backoff, limiter polls) but not as far as the calls'
 * 60 s attempt timeouts: the fake answers in real time, and a timeout fired meanwhile would be spurious.
 */
export const drive = <T>(clock: FakeClock, promise: Promise<T>) => driveAll(clock, promise, 10_000);
