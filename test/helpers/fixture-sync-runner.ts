import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { openSyncStores } from '../../src/store/sync/index.js';
import { SyncRunner } from '../../src/sync/sync-runner.js';
import { EventPipeline } from '../../src/webhooks/pipeline.js';
import type { FixtureClients } from './fixture-clients.js';

/**
 * A sync runner in a fixture process, as the engine builds one: the sync stores and the event pipeline
 * on the fixture's database, its connections' clients, the system clock, `owner` naming its leases.
 */
export function fixtureSyncRunner(
  { database, clients }: Pick<FixtureClients, 'database' | 'clients'>,
  { owner, leaseMs }: { owner: string; leaseMs: number },
) {
  const stores = openSyncStores(database);
  const pipeline = new EventPipeline({ database, clock: systemClock });
  const runner = new SyncRunner(
    {
      stores,
      events: { append: async (tx, events) => void (await pipeline.appendInTransaction(tx, events)) },
      clients: (id) => clients.client(id),
      clock: systemClock,
      logger: silentLogger,
    },
    { owner, leaseMs, sweepBatch: 1000, maxCursorRestarts: 3 },
  );
  return { runner, stores };
}

/**
 * Runs the definitions one after another, again and again, printing one JSON line per run
 * (`{ sync, startedAt, status, counts, error }`, read by kill-loop's `RunLine`), until the test kills the process.
 */
export async function runRoundsForever(
  runner: SyncRunner,
  definitions: readonly Parameters<SyncRunner['run']>[0][],
): Promise<never> {
  for (;;) {
    for (const definition of definitions) {
      const startedAt = Date.now();
      const outcome = await runner.run(definition, { trigger: 'manual' });
      const line = {
        sync: definition.id,
        startedAt,
        status: outcome.status,
        ...(outcome.status !== 'busy' && { counts: outcome.counts, error: outcome.error?.message }),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
