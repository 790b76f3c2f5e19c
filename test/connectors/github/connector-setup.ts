import type { RunningFake } from '../../../src/connectors/fake-kit/index.js';
import { ConnectorClients } from '../../../src/connectors/index.js';
import { MemoryRateLimitStore } from '../../../src/resilience/rate-limit-store.js';
import type { Database } from '../../../src/store/database.js';
import { FakeClock } from '../../../src/testing/index.js';
import { dialects, migratedDatabase } from '../../helpers/databases.js';
import { openTestVault, type TestVault } from '../../helpers/vault.js';

/** A vault on SQLite and the connector clients over it, on a hand-moved clock. */
export interface ConnectorSetup {
  database: Database;
  vault: TestVault;
  clock: FakeClock;
  clients: ConnectorClients;
  close(): Promise<void>;
}

export async function connectorSetup(
  options: { start?: number; http?: ConstructorParameters<typeof ConnectorClients>[0]['http'] } = {},
): Promise<ConnectorSetup> {
  const { database, cleanup } = await migratedDatabase(dialects[0]!);
  const vault = await openTestVault(database);
  const clock = new FakeClock(options.start ?? Date.now());
  const clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits: new MemoryRateLimitStore(),
    clock,
    // Timeouts and deadlines beyond driveWith's horizon (2 h): moving the clock must not fire them while a
    // call is in flight; waits for an hour's reset are honoured inside the call.
    http: options.http ?? {
      timeoutMs: 18_000_000,
      deadlineMs: 14_400_000,
      retry: { budget: false, deadlineMs: 14_400_000, maxRetryAfterMs: 7_200_000 },
    },
  });
  return {
    database,
    vault,
    clock,
    clients,
    async close() {
      await clients.close();
      await cleanup();
    },
  };
}

/**
 * Lets real I/O run and moves the client's clock past every sleep due within `horizonMs`, moving the
 * (frozen) fake's clock along with it: a wait for a reset or a `retry-after` passes on both sides at once.
 */
export async function driveWith<T>(
  clock: FakeClock,
  fake: RunningFake,
  promise: Promise<T>,
  horizonMs = 7_200_000,
): Promise<T> {
  let done = false;
  const settle = () => {
    done = true;
  };
  promise.then(settle, settle);
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    const next = clock.nextWake;
    if (!done && next !== undefined && next - clock.now() <= horizonMs) {
      // The fake first: what the woken sleeper sends must find the fake already at that time.
      fake.clock.set(next);
      await clock.runNext();
    }
  }
  return promise;
}
