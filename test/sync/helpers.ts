import { type Clock, systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import type { HttpClient } from '../../src/http/create-http-client.js';
import type { Database } from '../../src/store/database.js';
import type { StoredEvent } from '../../src/store/event-store.js';
import { openSyncStores, type SyncStores } from '../../src/store/sync/index.js';
import type { SyncPorts } from '../../src/sync/ports.js';
import { SyncRunner } from '../../src/sync/sync-runner.js';
import { SyncService } from '../../src/sync/sync-service.js';
import { EventPipeline } from '../../src/webhooks/pipeline.js';
import { type DialectUnderTest, migratedDatabase } from '../helpers/databases.js';

/** A sync engine on a fresh database: the real stores and the real event pipeline (no destinations). */
export interface SyncHarness {
  database: Database;
  stores: SyncStores;
  pipeline: EventPipeline;
  ports: SyncPorts;
  runner: SyncRunner;
  /** Events of a sync, parsed, oldest first. */
  events(syncId: string): Promise<{ type: string; id: string; body: Record<string, unknown> }[]>;
  cleanup(): Promise<void>;
}

export async function syncHarness(
  dialect: DialectUnderTest,
  options: { clock?: Clock; clients?: Record<string, HttpClient>; leaseMs?: number; owner?: string } = {},
): Promise<SyncHarness> {
  const { database, cleanup } = await migratedDatabase(dialect);
  const stores = openSyncStores(database);
  const clock = options.clock ?? systemClock;
  const pipeline = new EventPipeline({ database, clock });
  const ports: SyncPorts = {
    stores,
    events: { append: async (tx, events) => void (await pipeline.appendInTransaction(tx, events)) },
    clients: (id) => {
      const client = options.clients?.[id];
      if (!client) throw new Error(`no client for ${id}`);
      return client;
    },
    clock,
    logger: silentLogger,
  };
  const runner = new SyncRunner(ports, {
    owner: options.owner ?? 'test',
    leaseMs: options.leaseMs ?? 60_000,
    sweepBatch: 1000,
    maxCursorRestarts: 3,
  });
  return {
    database,
    stores,
    pipeline,
    ports,
    runner,
    async events(syncId) {
      const out: { type: string; id: string; body: Record<string, unknown> }[] = [];
      let after: string | undefined;
      for (;;) {
        const page: StoredEvent[] = await pipeline.store.list({
          source: 'syncs',
          limit: 500,
          ...(after && { after }),
        });
        for (const e of page.slice(0, 500)) {
          if (e.type.startsWith(`${syncId}.`))
            out.push({ type: e.type, id: e.id, body: JSON.parse(e.body.toString()) });
        }
        if (page.length <= 500) return out;
        after = page[499]!.id;
      }
    },
    cleanup,
  };
}

/** The harness with a `SyncService` over it (its scheduler not started unless asked). */
export async function serviceHarness(
  dialect: DialectUnderTest,
  options: Parameters<typeof syncHarness>[1] & { schedule?: boolean } = {},
): Promise<SyncHarness & { service: SyncService }> {
  const h = await syncHarness(dialect, options);
  const service = new SyncService({
    ports: h.ports,
    owner: options.owner ?? 'test',
    ...(options.leaseMs !== undefined && { runner: { leaseMs: options.leaseMs } }),
    scheduler: { pollMs: 50 },
  });
  return {
    ...h,
    service,
    async cleanup() {
      await service.stop();
      await h.cleanup();
    },
  };
}

/** Records of a sync as stored, by id (parsed). */
export async function storedRecords(stores: SyncStores, syncId: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  let after: { updatedAt: number; id: string } | undefined;
  for (;;) {
    const rows = await stores.records.list(syncId, { limit: 1000, ...(after && { after }) });
    for (const r of rows.slice(0, 1000)) out.set(r.id, JSON.parse(r.data));
    if (rows.length <= 1000) return out;
    const last = rows[999]!;
    after = { updatedAt: last.updatedAt, id: last.id };
  }
}
