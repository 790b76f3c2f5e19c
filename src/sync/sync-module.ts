import { hostname } from 'node:os';
import type { SyncEntry, SyncsSettings } from '../core/config/syncs.js';
import { errorMessage } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { LoopBlockReporter } from '../core/loop-block.js';
import type { ModuleContext, PatchbayModule } from '../core/module.js';
import type { Database } from '../store/database.js';
import { openSyncStores } from '../store/sync/index.js';
import { syncsFromConfig } from './config-syncs.js';
import type { SyncDefinition } from './define-sync.js';
import type { ChangeEventSink, HttpClientFactory, SyncPorts } from './ports.js';
import { SyncMetrics } from './sync-metrics.js';
import type { AnySyncModel } from './sync-model.js';
import { syncRoutes } from './sync-routes.js';
import { SyncService } from './sync-service.js';

export interface SyncModuleSettings {
  /** The config file's `syncs:`. */
  entries: readonly SyncEntry[];
  /** The config file's `syncRuns:` (lease, concurrency, poll interval). */
  runs: SyncsSettings;
  /** How long a trigger event waits for others before its run starts. Defaults to 2 s. */
  triggerDebounceMs?: number;
}

export interface SyncModulePorts {
  database: Database;
  /** The event log (the events module): change events are appended in the page's transaction. */
  events: ChangeEventSink;
  /** A connection's resilient HTTP client (the connectors' clients). */
  clients: HttpClientFactory;
  /** Whether a connection exists (a config sync naming another one is a config error). */
  connectionExists(id: string): Promise<boolean>;
  /** The connectors' sync models. */
  models: readonly AnySyncModel[];
  /**
   * Subscribes a handler to events (the delivery module's `on`): a sync's `triggers` request runs
   * through it, with delivery's retries and dead letters.
   */
  subscribe(
    patterns: readonly string[],
    handler: () => Promise<void>,
    options: { id: string },
  ): Promise<void>;
  /** Told when a page's transforms held the event loop over 50 ms. */
  onLoopBlock?: LoopBlockReporter;
}

export type SyncModule = PatchbayModule<SyncService>;

/**
 * Syncs: the records store and its runs. The factory builds the definitions of the config file (an
 * unknown connection or model, a schedule that does not parse: a config error naming the path) and
 * creates their state; `start` starts this process's scheduler. Code-defined syncs are added through
 * the service (`engine.syncs.define(defineSync({ … }))`), in every process that should run them.
 */
export async function createSyncModule(
  ctx: ModuleContext,
  settings: SyncModuleSettings,
  ports: SyncModulePorts,
): Promise<SyncModule> {
  const { clock, logger, registry } = ctx;
  const stores = openSyncStores(ports.database);
  // Counters and the scrape-time gauges; the gauges read the service, made just below.
  let service: SyncService | undefined;
  const metrics = new SyncMetrics(registry, async () => (service ? service.samples() : []));
  const syncPorts: SyncPorts = {
    stores,
    events: ports.events,
    clients: ports.clients,
    clock,
    logger,
    metrics,
    ...(ports.onLoopBlock && { onLoopBlock: ports.onLoopBlock }),
  };
  service = new SyncService({
    ports: syncPorts,
    owner: `${hostname()}/${process.pid}/${newId('runner').slice(-8)}`,
    runner: { leaseMs: settings.runs.lease },
    scheduler: { pollMs: settings.runs.pollInterval, concurrency: settings.runs.concurrency },
  });
  const definitions = await syncsFromConfig(settings.entries, {
    models: new Map(ports.models.map((m) => [m.name, m])),
    connectionExists: ports.connectionExists,
  });
  for (const definition of definitions) await service.define(definition);
  await service.start({ schedule: false });
  const syncs = service;
  const debounce = settings.triggerDebounceMs ?? 2000;
  const subscribed = new Set<string>();
  const subscribe = async (definition: SyncDefinition) => {
    if (definition.triggers.length === 0 || subscribed.has(definition.id)) return;
    subscribed.add(definition.id);
    await ports.subscribe(
      definition.triggers,
      async () => {
        // Many events in a burst make one run: the request is due `debounce` after the first.
        await syncs.request(definition.id, { trigger: 'event', at: clock.now() + debounce }).catch((err) => {
          logger.warn(
            { sync: definition.id, err: errorMessage(err) },
            `sync ${definition.id}: a trigger event could not request a run`,
          );
        });
      },
      { id: `sync-trigger-${definition.id}`.slice(0, 64) },
    );
  };
  for (const definition of definitions) await subscribe(definition);
  return {
    name: 'syncs',
    service: syncs,
    adminRoutes: (app) => syncRoutes(app, syncs, clock),
    async start() {
      for (const definition of syncs.definitions()) await subscribe(definition);
      await syncs.start({ schedule: true });
    },
    async stop() {
      await syncs.stop();
    },
  };
}
