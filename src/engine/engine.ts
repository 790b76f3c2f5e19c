import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConnectorClients } from '../connectors/connector-clients.js';
import { buildConnectorModules } from '../connectors/connector-modules.js';
import { connectorModulesFor, syncModelsFor } from '../connectors/registry.js';
import { createSubscriptionsModule } from '../connectors/subscriptions-module.js';
import { type Clock, systemClock } from '../core/clock.js';
import type { PatchbayConfig } from '../core/config/index.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { ModuleContext, PatchbayModule, ReadinessCheck } from '../core/module.js';
import type { EventPublisher } from '../core/publisher.js';
import { startTracing, type Tracing } from '../core/tracing.js';
import { createHealthModule } from '../health/health-module.js';
import { attemptObservation, TrafficRecorder } from '../health/traffic-recorder.js';
import type { Connector, Resolver } from '../http/ssrf/index.js';
import { type Database, openDatabase } from '../store/database.js';
import { databaseUrl } from '../store/database-url.js';
import { type LimitStores, openLimitStores } from '../store/limits/index.js';
import { migrateToLatest, migrationStatus } from '../store/migrate.js';
import { JobQueue } from '../store/queue.js';
import { createQueuesModule, type QueuesService } from '../store/queue-module.js';
import { TrafficStore } from '../store/traffic-store.js';
import { createSyncModule } from '../sync/sync-module.js';
import type { SyncService } from '../sync/sync-service.js';
import { createUiModule } from '../ui/ui-module.js';
import type { VaultServices } from '../vault/index.js';
import { createVaultModule } from '../vault/vault-module.js';
import type { DeliveriesService, HandlerOptions } from '../webhooks/delivery/deliveries-service.js';
import { createDeliveryModule } from '../webhooks/delivery/delivery-module.js';
import type { EventHandler } from '../webhooks/delivery/destinations.js';
import { DESTINATION_SECRETS_COLUMN } from '../webhooks/delivery/stored-destinations.js';
import { createEventsModule, type EventsService } from '../webhooks/events-module.js';
import type { PublishRequest, PublishResult } from '../webhooks/pipeline.js';
import { SOURCE_SECRETS_COLUMN } from '../webhooks/stored-sources.js';
import { opsSignals } from './ops-signals.js';

export interface EngineOptions {
  config: PatchbayConfig;
  logger?: Logger;
  clock?: Clock;
  /** Prometheus registry to register metrics in. Defaults to a fresh one per engine. */
  registry?: Registry;
  /**
   * Apply pending migrations on open. Defaults to true. With false, a store whose schema is current
   * opens as usual and one with pending migrations is refused, naming them (run `patchbay migrate`).
   */
  migrate?: boolean;
  /** Where `PATCHBAY_ENCRYPTION_KEY` / `PATCHBAY_ENCRYPTION_KEY_FILE` are read. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * How deliveries, OAuth requests and connection calls reach the network behind the SSRF guard: a
   * `resolver` deciding what names resolve to, and a `connect` making the connection to a checked
   * address. Defaults to the system's DNS and undici's connector; tests inject both to prove which
   * addresses are (never) dialled.
   */
  network?: { resolver?: Resolver; connect?: Connector };
}

/**
 * The composition root: opens the store and the limit stores (the only place that picks SQLite or
 * PostgreSQL, memory or Redis), builds the modules in one visible order, passing each the services of
 * those before it, and starts and stops them. It hands out module services, never a store or a queue.
 */
export class Engine {
  readonly config: PatchbayConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  /** The event log, webhook sources and the ingress. */
  readonly events: EventsService;
  /** Destinations, deliveries, handlers (`on`), replay and recovery. */
  readonly delivery: DeliveriesService;
  /**
   * Credentials: the keyring, connections, OAuth flows, token refresh, and the resolver the HTTP client
   * takes (`createHttpClient({ connection: 'crm', connections: engine.vault.resolver })`).
   */
  readonly vault: VaultServices;
  /** The durable job queue's depth and dead letters. */
  readonly queues: QueuesService;
  /** Syncs: status, runs, records, local writes, quarantine, conflicts, verify; `define` adds one in code. */
  readonly syncs: SyncService;
  /**
   * Connections as clients: `client(id)` the resilient HTTP client, `api(id, msgraphConnector)` the
   * provider's typed calls, `check(id)` one read that proves the credential works.
   */
  readonly connectors: ConnectorClients;
  /** Every module, in start order; the server mounts their routes. */
  readonly modules: readonly PatchbayModule[];
  /** Where the store is (`sqlite:/…/patchbay.db`, `postgres://host/db`), without credentials. */
  readonly storeDescription: string;
  private stopped = false;
  private tracing: Tracing | undefined;

  private constructor(
    parts: Pick<
      Engine,
      | 'config'
      | 'logger'
      | 'clock'
      | 'registry'
      | 'events'
      | 'delivery'
      | 'vault'
      | 'queues'
      | 'syncs'
      | 'connectors'
    >,
    modules: readonly PatchbayModule[],
    private readonly database: Database,
    private readonly limitStores: LimitStores,
  ) {
    this.config = parts.config;
    this.logger = parts.logger;
    this.clock = parts.clock;
    this.registry = parts.registry;
    this.events = parts.events;
    this.delivery = parts.delivery;
    this.vault = parts.vault;
    this.queues = parts.queues;
    this.syncs = parts.syncs;
    this.connectors = parts.connectors;
    this.modules = modules;
    this.storeDescription = database.description;
  }

  /** Opens the store (and migrates it unless told not to), then builds every module. */
  static async open(options: EngineOptions): Promise<Engine> {
    const { config } = options;
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? createLogger({ level: config.log.level, format: config.log.format });
    const registry = options.registry ?? new Registry();
    const database = await openDatabase(databaseUrl(config), {
      sqliteSynchronous: config.database.sqliteSynchronous,
      sqliteBusyTimeoutMs: config.database.busyTimeout,
      poolSize: config.database.poolSize,
    });
    let limitStores: LimitStores | undefined;
    const built: PatchbayModule[] = [];
    let tracing: Tracing | undefined;
    try {
      tracing = await startTracing(options.env ?? process.env);
      if (options.migrate !== false) await migrateToLatest(database);
      else await refuseWithPendingMigrations(database);
      limitStores = await openLimitStores({
        database,
        ...(config.redis.url !== undefined && { redisUrl: config.redis.url }),
      });
      collectDefaultMetrics({ register: registry, prefix: 'patchbay_' });
      const ctx = (name: string): ModuleContext => ({
        clock,
        registry,
        logger: logger.child({ module: name }),
      });
      const queue = new JobQueue(database, clock);
      const signals = opsSignals({ database, registry, logger: logger.child({ module: 'ops' }), clock });
      // Sources' requests and connections' calls, per minute, for their health in any process (decision
      // 0114). First in, so stopped last: it writes what is left once everything else has stopped.
      const traffic = new TrafficRecorder({
        store: new TrafficStore(database),
        clock,
        logger: logger.child({ module: 'traffic' }),
      });
      built.push({ name: 'traffic', service: traffic, stop: () => traffic.stop() });

      // Operational events (`connection.needs_reauth`, `delivery.exhausted`…) go into the event log as
      // source `patchbay`. The log is the events module, built after the modules that announce (it
      // routes through delivery): this is the one forward reference, used only once the engine runs.
      let events: EventsService | undefined;
      const announce: EventPublisher = {
        publish: async (input) => {
          if (!events) throw new PatchbayError(ErrorCode.INTERNAL, 'the event log is not open yet');
          await events.announce(input);
        },
      };
      const v = config.vault;
      const vault = await createVaultModule(
        ctx('vault'),
        {
          connections: config.connections,
          dataDir: config.dataDir,
          env: options.env ?? process.env,
          ...(options.network && { network: options.network }),
          settings: {
            refreshSkewMs: v.refreshSkew,
            tokenTimeoutMs: v.tokenTimeout,
            lockTimeoutMs: v.lockTimeout,
            stateTtlMs: v.stateTtl,
            allowInsecureLoopback: v.allowInsecureLoopback,
            allowedNetworks: v.allowedNetworks,
            ...(v.oauthRedirectUrl !== undefined && { redirectUrl: v.oauthRedirectUrl }),
          },
        },
        { database, publisher: announce, columns: [SOURCE_SECRETS_COLUMN, DESTINATION_SECRETS_COLUMN] },
      );
      built.push(vault);
      const delivery = await createDeliveryModule(
        ctx('delivery'),
        { destinations: config.destinations, delivery: config.delivery, workers: config.workers },
        {
          database,
          queue,
          limits: limitStores,
          sealer: vault.service.vault,
          publisher: announce,
          ...(options.network && { network: options.network }),
          onLoopBlock: signals.onLoopBlock,
        },
      );
      built.push(delivery);
      const eventsModule = await createEventsModule(
        ctx('events'),
        {
          sources: config.sources,
          retentionMs: config.events.retention,
          defaultBodyLimit: config.server.bodyLimit,
        },
        {
          database,
          sealer: vault.service.vault,
          route: delivery.service.route,
          deliveriesOf: (id) => delivery.service.forEvent(id),
          onOutcome: (sourceId, o) =>
            traffic.record('source', sourceId, {
              ok: o.accepted,
              ...(o.code && { reason: o.code }),
              durationMs: o.durationMs,
            }),
        },
      );
      built.push(eventsModule);
      events = eventsModule.service;
      const queues = createQueuesModule(ctx('queues'), { queue });
      built.push(queues);
      // Connections become HTTP clients with their provider's base URL, limits and errors.
      const clients = new ConnectorClients({
        connections: vault.service.connections,
        auth: vault.service.resolver,
        rateLimits: limitStores.rateLimits,
        breakers: limitStores.breakers,
        // A connection's own calls pass the same SSRF rule as its OAuth endpoints (vault.allowedNetworks).
        dispatcher: vault.service.egress.dispatcher,
        clock,
        registry,
        logger: logger.child({ module: 'connections' }),
        onAttempt: (connectionId, answer) => {
          signals.onConnectionAttempt(connectionId, answer);
          traffic.record('connection', connectionId, attemptObservation(answer, clock.now()));
        },
      });
      // Stopped after the syncs (modules stop in reverse): a run stopping still has its client.
      built.push({ name: 'connections', service: clients, stop: () => clients.close() });
      const syncs = await createSyncModule(
        ctx('syncs'),
        { entries: config.syncs, runs: config.syncRuns },
        {
          database,
          events: {
            append: async (tx, events) => void (await eventsModule.service.appendInTransaction(tx, events)),
          },
          clients: (id) => clients.client(id),
          connectionExists: async (id) => (await vault.service.connections.get(id)) !== undefined,
          // Only the connectors whose models the config names are loaded.
          models: await syncModelsFor(config.syncs.flatMap((entry) => (entry.model ? [entry.model] : []))),
          subscribe: (patterns, handler, options) =>
            delivery.service.on([...patterns], async () => handler(), { id: options.id }),
          onLoopBlock: signals.onLoopBlock,
        },
      );
      built.push(syncs);
      const health = createHealthModule(
        ctx('health'),
        {},
        {
          database,
          destinations: delivery.service.destinations,
          connections: vault.service.connections,
          syncs: syncs.service,
          sources: eventsModule.service.sources,
          connectionBreaker: (connection) => clients.breakerState(connection),
          traffic,
          publisher: announce,
        },
      );
      built.push(health);
      // Modules connectors contribute (Graph's subscriptions for the folders whose syncs say `notify`),
      // each imported only when the config needs it; the subscriptions route lists what they keep.
      const contributed = await buildConnectorModules(connectorModulesFor(config), ctx, config, {
        connections: vault.service.connections,
        clients,
        limits: limitStores.rateLimits,
        on: (pattern, handler, id) =>
          delivery.service.on(pattern, (event) => handler(event.type, event.payload), { id }),
        requestRun: (syncId, at) => syncs.service.request(syncId, { trigger: 'event', at }),
      });
      built.push(...contributed);
      built.push(
        createSubscriptionsModule({
          connections: vault.service.connections,
          contributed: contributed.map((module) => module.service),
        }),
      );
      const ui = await createUiModule(
        ctx('ui'),
        { adminToken: config.server.adminToken, sessionTtlMs: config.ui.sessionTtl },
        {
          events: eventsModule.service,
          delivery: delivery.service,
          vault: vault.service,
          queues: queues.service,
          connections: clients,
          syncs: syncs.service,
        },
      );
      built.push(ui);

      const engine = new Engine(
        {
          config,
          logger,
          clock,
          registry,
          events: eventsModule.service,
          delivery: delivery.service,
          vault: vault.service,
          queues: queues.service,
          syncs: syncs.service,
          connectors: clients,
        },
        built,
        database,
        limitStores,
      );
      engine.tracing = tracing;
      return engine;
    } catch (err) {
      for (const module of built.reverse()) await module.stop?.().catch(() => {});
      await limitStores?.close().catch(() => {});
      await database.close().catch(() => {});
      await tracing?.shutdown().catch(() => {});
      throw err;
    }
  }

  /** Publishes an event of the application's own into the pipeline (routed like any other). */
  publish(input: PublishRequest): Promise<PublishResult> {
    return this.events.publish(input);
  }

  /**
   * Subscribes an in-process handler, with the same retries, dead letters and replay as an HTTP
   * destination. `pattern` filters on `<sourceId>.<type>` (see delivery.md). Register handlers before
   * `startWorkers()`, in every process that runs workers.
   */
  on(pattern: string | string[], handler: EventHandler, options: HandlerOptions = {}): Promise<void> {
    return this.delivery.on(pattern, handler, options);
  }

  /** Starts every module's queue workers and timers, in order. */
  async startWorkers(): Promise<void> {
    for (const module of this.modules) await module.start?.();
  }

  /** Readiness: the store answers, its schema is current, and every module's own checks pass. */
  async readiness(): Promise<{ ok: boolean; checks: Record<string, ReadinessCheck> }> {
    const checks: Record<string, ReadinessCheck> = {};
    // A locked store fails readiness at once: the query below would queue behind the waiting writes.
    const writable = await this.database.writable();
    if (!writable.ok) {
      checks.store = { ok: false, ...(writable.detail !== undefined && { detail: writable.detail }) };
      return { ok: false, checks };
    }
    try {
      const status = await withinMs(READINESS_QUERY_MS, migrationStatus(this.database));
      checks.store = { ok: true };
      checks.migrations =
        status.pending.length === 0
          ? { ok: true }
          : { ok: false, detail: `pending migrations: ${status.pending.join(', ')}` };
    } catch (err) {
      checks.store = { ok: false, detail: `store unreachable: ${errorMessage(err)}` };
    }
    for (const module of this.modules) {
      if (!module.readiness) continue;
      for (const [name, check] of Object.entries(await module.readiness())) {
        checks[`${module.name}.${name}`] = check;
      }
    }
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  /** Stops the modules in reverse order (running jobs finish within the grace period), then the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const module of [...this.modules].reverse()) await module.stop?.();
    await this.limitStores.close();
    await this.database.close();
    await this.tracing?.shutdown();
  }
}

/** Longest /readyz waits for the store's answer: a load balancer asking must not hang. */
const READINESS_QUERY_MS = 2000;

async function withinMs<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function refuseWithPendingMigrations(database: Database): Promise<void> {
  const { pending } = await migrationStatus(database);
  if (pending.length > 0) {
    throw new PatchbayError(
      ErrorCode.STORE_UNAVAILABLE,
      `${database.description} has pending migrations (${pending.join(', ')}): run \`patchbay migrate\``,
    );
  }
}
