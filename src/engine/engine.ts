import { resolve } from 'node:path';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Clock, systemClock } from '../core/clock.js';
import type { PatchbayConfig } from '../core/config/index.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { EventPublisher } from '../core/publisher.js';
import { type Connector, createGuardedDispatcherFactory, type Resolver } from '../http/ssrf/index.js';
import { type Database, openDatabase } from '../store/database.js';
import { DeliveryStore } from '../store/delivery-store.js';
import { type LimitStores, openLimitStores } from '../store/limits/index.js';
import { migrateToLatest, migrationStatus } from '../store/migrate.js';
import { JobQueue } from '../store/queue.js';
import { type JobHandler, QueueWorker } from '../store/queue-worker.js';
import { SourceStore } from '../store/source-store.js';
import { openVault, type VaultServices } from '../vault/index.js';
import { DestinationGuard } from '../webhooks/delivery/delivery-guard.js';
import { DeliveryService } from '../webhooks/delivery/delivery-service.js';
import { DeliveryWorker } from '../webhooks/delivery/delivery-worker.js';
import { DestinationService } from '../webhooks/delivery/destination-service.js';
import {
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DestinationRegistry,
  type EventHandler,
  httpDestinationFromConfig,
} from '../webhooks/delivery/destinations.js';
import { compileFilters, validatePattern } from '../webhooks/delivery/event-filter.js';
import { HttpSender } from '../webhooks/delivery/http-sender.js';
import { createRouter, DELIVERY_QUEUE, ORDERED_QUEUE } from '../webhooks/delivery/router.js';
import { WebhookIngress } from '../webhooks/ingress.js';
import { EventPipeline, type PublishRequest, type PublishResult } from '../webhooks/pipeline.js';
import { signStandardWebhook } from '../webhooks/sign/standard-webhooks.js';
import { SourceService } from '../webhooks/source-service.js';

export interface EngineOptions {
  config: PatchbayConfig;
  logger?: Logger;
  clock?: Clock;
  /** Prometheus registry to register metrics in. Defaults to a fresh one per engine. */
  registry?: Registry;
  /** Apply pending migrations on open. Defaults to true. */
  migrate?: boolean;
  /** Where `PATCHBAY_ENCRYPTION_KEY` / `PATCHBAY_ENCRYPTION_KEY_FILE` are read. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * How deliveries reach the network behind the SSRF guard: a `resolver` deciding what names resolve to,
   * and a `connect` making the connection to a checked address. Defaults to the system's DNS and
   * undici's connector; tests inject both to prove which addresses are (never) dialled.
   */
  network?: { resolver?: Resolver; connect?: Connector };
}

export interface QueueRegistration<P = unknown> {
  queue: string;
  handler: JobHandler<P>;
  /** Jobs in flight per process; defaults to `workers.concurrency`. */
  concurrency?: number;
  batchSize?: number;
}

/**
 * The composition root: builds every part from the configuration, and is the only place that picks
 * concrete adapters (SQLite or PostgreSQL, memory or Redis). The server and the CLI drive an Engine.
 */
export class Engine {
  readonly config: PatchbayConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly database: Database;
  readonly queue: JobQueue;
  /** The event log's front door: ingest, publish, dedupe, route. */
  readonly pipeline: EventPipeline;
  /** Webhook sources and `POST /webhooks/:sourceId` minus the HTTP server. */
  readonly ingress: WebhookIngress;
  readonly deliveries: DeliveryStore;
  readonly destinations: DestinationRegistry;
  /** Replay and recovery of deliveries. */
  readonly deliveryService: DeliveryService;
  private readonly sender: HttpSender;
  /** Rate-limit and breaker state shared by every process (Redis when configured, else the store). */
  private readonly limitStores: LimitStores;
  /** Per-destination breaker, rate limit and concurrency. */
  readonly deliveryGuard: DestinationGuard;
  /** Sends deliveries; exposed for tests and tools that drive attempts by hand. */
  readonly deliveryWorker: DeliveryWorker;
  private vaultServices: VaultServices | undefined;
  private sourceService: SourceService | undefined;
  private destinationService: DestinationService | undefined;
  private readonly env: Record<string, string | undefined>;
  private readonly registrations = new Map<string, QueueRegistration<never>>();
  private readonly workers: QueueWorker<unknown>[] = [];
  private stopped = false;
  private pruneTimer: NodeJS.Timeout | undefined;
  private maintenanceTimer: NodeJS.Timeout | undefined;

  private constructor(options: EngineOptions, database: Database, limitStores: LimitStores) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger({ level: options.config.log.level });
    this.registry = options.registry ?? new Registry();
    this.database = database;
    this.env = options.env ?? process.env;
    this.queue = new JobQueue(database, this.clock);
    this.pipeline = new EventPipeline({
      database,
      clock: this.clock,
      registry: this.registry,
      retentionMs: this.config.events.retention,
      // Read at each pruning: sources made through the API bring their own retention.
      retentionBySource: () => this.ingress.retentions(),
    });
    this.ingress = new WebhookIngress({
      sources: this.config.sources,
      pipeline: this.pipeline,
      defaultBodyLimit: this.config.server.bodyLimit,
      defaultRetentionMs: this.config.events.retention,
      clock: this.clock,
      registry: this.registry,
      logger: this.logger.child({ component: 'ingress' }),
    });
    this.deliveries = new DeliveryStore(database);
    this.destinations = new DestinationRegistry(this.deliveries, this.clock);
    const timeout = this.config.delivery.timeout ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    for (const destination of this.config.destinations) {
      this.destinations.define(httpDestinationFromConfig(destination, timeout));
    }
    this.deliveryService = new DeliveryService(
      database,
      this.deliveries,
      this.destinations,
      this.queue,
      this.clock,
    );
    // Every delivery connects through the SSRF guard: https only, and the resolved address (the one
    // connected to) outside private ranges unless `delivery.allowedNetworks` permits it.
    this.sender = new HttpSender(
      createGuardedDispatcherFactory({
        allowedNetworks: this.config.delivery.allowedNetworks,
        // A process never has more attempts in flight than its workers run at once; a smaller pool would
        // queue them behind hanging requests (a per-destination cap is `rateLimit.maxConcurrent`).
        poolOptions: { connections: this.config.workers.concurrency },
        ...(options.network?.resolver && { resolver: options.network.resolver }),
        ...(options.network?.connect && { connect: options.network.connect }),
      }),
      () => this.clock.now(),
    );
    this.limitStores = limitStores;
    this.deliveryGuard = new DestinationGuard({
      rateLimits: limitStores.rateLimits,
      breakers: limitStores.breakers,
      clock: this.clock,
      publisher: this.operationalEvents,
      registry: this.registry,
      logger: this.logger.child({ component: 'delivery' }),
      ...(this.config.delivery.limitWait !== undefined && { maxWaitMs: this.config.delivery.limitWait }),
      onOpen: async (destinationId, until) => {
        await this.deliveries.postponeJobs(DELIVERY_QUEUE, destinationId, until, this.clock.now());
      },
    });
    this.deliveryWorker = new DeliveryWorker({
      database,
      deliveries: this.deliveries,
      registry: this.destinations,
      sender: this.sender,
      sign: signStandardWebhook,
      clock: this.clock,
      logger: this.logger.child({ component: 'delivery' }),
      schedule: {
        ...(this.config.delivery.retrySchedule && { schedule: this.config.delivery.retrySchedule }),
        ...(this.config.delivery.overloadBackoff !== undefined && {
          overloadMinimumMs: this.config.delivery.overloadBackoff,
        }),
        ...(this.config.delivery.jitter !== undefined && { jitter: this.config.delivery.jitter }),
      },
      ...(this.config.delivery.disableAfter !== undefined && {
        disableAfterMs: this.config.delivery.disableAfter,
      }),
      publisher: this.operationalEvents,
      guard: this.deliveryGuard,
      registryMetrics: this.registry,
    });
    this.pipeline.setRouteHook(createRouter(this.destinations, this.deliveries, this.queue, this.clock));
    this.handle<{ deliveryId: string }>({
      queue: DELIVERY_QUEUE,
      handler: (job, ctx) => this.deliveryWorker.handleDeliveryJob(job, ctx),
    });
    this.handle<{ destinationId: string }>({
      queue: ORDERED_QUEUE,
      handler: (job, ctx) => this.deliveryWorker.handleOrderedJob(job, ctx),
    });
    this.registerMetrics();
  }

  /**
   * Loads runtime state that construction cannot (destinations' state rows), and opens the vault: a
   * wrong or missing encryption key stops start-up here with one `ENCRYPTION_KEY_INVALID` message.
   */
  private async init(): Promise<void> {
    const disabled = new Set(this.config.destinations.filter((d) => d.disabled).map((d) => d.id));
    await this.destinations.sync(disabled);
    const v = this.config.vault;
    const grants = new Counter({
      name: 'patchbay_oauth_token_requests_total',
      help: 'Token requests to OAuth servers, by connection, grant type and outcome (ok, refused, failed).',
      labelNames: ['connection', 'grant', 'outcome'] as const,
      registers: [this.registry],
    });
    const grantSeconds = new Histogram({
      name: 'patchbay_oauth_token_request_duration_seconds',
      help: 'Duration of token requests to OAuth servers.',
      labelNames: ['grant'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.vaultServices = await openVault({
      onGrant: (e) => {
        grants.inc({ connection: e.connectionId, grant: e.grantType, outcome: e.outcome });
        grantSeconds.observe({ grant: e.grantType }, e.durationMs / 1000);
      },
      database: this.database,
      env: this.env,
      dataDir: this.config.dataDir,
      logger: this.logger.child({ component: 'vault' }),
      clock: this.clock,
      publisher: this.operationalEvents,
      connections: this.config.connections,
      settings: {
        refreshSkewMs: v.refreshSkew,
        tokenTimeoutMs: v.tokenTimeout,
        lockTimeoutMs: v.lockTimeout,
        stateTtlMs: v.stateTtl,
        allowInsecureLoopback: v.allowInsecureLoopback,
        ...(v.oauthRedirectUrl !== undefined && { redirectUrl: v.oauthRedirectUrl }),
      },
    });
    this.sourceService = new SourceService(
      new SourceStore(this.database),
      this.vaultServices.vault,
      this.ingress,
      new Set(this.config.sources.map((s) => s.id)),
      { clock: this.clock, logger: this.logger.child({ component: 'sources' }) },
    );
    await this.sourceService.refresh();
    this.destinationService = new DestinationService({
      store: this.deliveries,
      registry: this.destinations,
      vault: this.vaultServices.vault,
      configIds: new Set(this.config.destinations.map((d) => d.id)),
      defaultTimeoutMs: this.config.delivery.timeout ?? DEFAULT_DELIVERY_TIMEOUT_MS,
      allowedNetworks: this.config.delivery.allowedNetworks,
      clock: this.clock,
      logger: this.logger.child({ component: 'destinations' }),
    });
    await this.destinationService.refresh();
  }

  /** Destinations made through the admin API (config ones are read-only). */
  get destinationAdmin(): DestinationService {
    return loaded(this.destinationService, 'destinations are not loaded', ErrorCode.INTERNAL);
  }

  /** Webhook sources made through the admin API (config ones are read-only). */
  get sources(): SourceService {
    return loaded(this.sourceService, 'sources are not loaded', ErrorCode.INTERNAL);
  }

  /**
   * Credentials: the keyring, connections, OAuth flows, token refresh, and the resolver the HTTP client
   * takes (`createHttpClient({ connection: 'crm', connections: engine.vault.resolver })`).
   */
  get vault(): VaultServices {
    return loaded(this.vaultServices, 'the vault is not open', ErrorCode.STORE_UNAVAILABLE);
  }

  /**
   * Subscribes an in-process handler, with the same retries, dead letters and replay as an HTTP
   * destination. `pattern` filters on `<sourceId>.<type>` (see delivery.md). Register handlers before
   * `startWorkers()`, in every process that runs workers.
   */
  async on(
    pattern: string | string[],
    handler: EventHandler,
    options: { id?: string; timeoutMs?: number; ordered?: boolean } = {},
  ): Promise<void> {
    const patterns = Array.isArray(pattern) ? pattern : [pattern];
    for (const p of patterns) {
      const problem = validatePattern(p);
      if (problem) throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, problem);
    }
    const id = options.id ?? `handler-${patterns.join('+').replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
    this.destinations.define({
      kind: 'handler',
      id,
      events: patterns,
      matches: compileFilters(patterns),
      handler,
      timeoutMs: options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
      ordered: options.ordered ?? false,
    });
    await this.deliveries.ensureDestination(id, 'handler', this.clock.now());
    await this.destinations.refresh();
  }

  /** Opens the store (and migrates it unless told not to). Fails with `STORE_UNAVAILABLE` when unreachable. */
  static async open(options: EngineOptions): Promise<Engine> {
    const { config } = options;
    const url = databaseUrl(config);
    const database = await openDatabase(url, {
      sqliteSynchronous: config.database.sqliteSynchronous,
      poolSize: config.database.poolSize,
    });
    let limitStores: LimitStores | undefined;
    try {
      if (options.migrate !== false) await migrateToLatest(database);
      limitStores = await openLimitStores({
        database,
        ...(config.redis.url !== undefined && { redisUrl: config.redis.url }),
      });
      const engine = new Engine(options, database, limitStores);
      if (options.migrate !== false) await engine.init();
      return engine;
    } catch (err) {
      await limitStores?.close().catch(() => {});
      await database.close().catch(() => {});
      throw err;
    }
  }

  /** Operational events (`connection.needs_reauth`, `delivery.exhausted`…) published as source `patchbay`. */
  readonly operationalEvents: EventPublisher = {
    publish: async (input) => {
      await this.pipeline.publish({ ...input, source: 'patchbay' });
    },
  };

  /** Publishes an event of the application's own into the pipeline (routed like any other). */
  publish(input: PublishRequest): Promise<PublishResult> {
    return this.pipeline.publish(input);
  }

  /** Declares a queue this process can work on; `startWorkers` starts one worker per declared queue. */
  handle<P>(registration: QueueRegistration<P>): void {
    this.registrations.set(registration.queue, registration as QueueRegistration<never>);
  }

  async startWorkers(): Promise<void> {
    const { workers } = this.config;
    for (const reg of this.registrations.values()) {
      const worker = new QueueWorker<unknown>(this.database, this.queue, {
        queue: reg.queue,
        handler: reg.handler as JobHandler<unknown>,
        concurrency: reg.concurrency ?? workers.concurrency,
        batchSize: reg.batchSize ?? reg.concurrency ?? workers.concurrency,
        leaseMs: workers.lease,
        pollIntervalMs: workers.pollInterval,
        clock: this.clock,
        logger: this.logger.child({ queue: reg.queue }),
      });
      await worker.start();
      this.workers.push(worker);
    }
    if (this.workers.length > 0) {
      this.logger.info({ queues: [...this.registrations.keys()] }, 'workers started');
    }
    this.startRetention();
    this.startMaintenance();
  }

  /** Keeps the destinations' state fresh (other processes disable and enable them) and ordered queues moving. */
  private startMaintenance(): void {
    this.maintenanceTimer = setInterval(() => {
      void this.destinations.refresh().catch(() => {});
      void this.sourceService?.refresh().catch(() => {});
      void this.destinationService?.refresh().catch(() => {});
      void this.deliveryService.sweepOrdered().catch(() => {});
    }, 5000);
    this.maintenanceTimer.unref();
  }

  /** Prunes events past retention every 10 minutes (harmless when several processes do it). */
  private startRetention(): void {
    const prune = () =>
      void this.pipeline
        .prune()
        .then((n) => n > 0 && this.logger.info({ pruned: n }, 'pruned events past retention'))
        .catch((err) => this.logger.warn({ err: errorMessage(err) }, 'pruning events failed'));
    prune();
    this.pruneTimer = setInterval(prune, 10 * 60_000);
    this.pruneTimer.unref();
  }

  /** Readiness: the store answers and its schema is current. Returns the failing checks. */
  async readiness(): Promise<{ ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> }> {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    try {
      const status = await migrationStatus(this.database);
      checks.store = { ok: true };
      checks.migrations =
        status.pending.length === 0
          ? { ok: true }
          : { ok: false, detail: `pending migrations: ${status.pending.join(', ')}` };
    } catch (err) {
      checks.store = { ok: false, detail: `store unreachable: ${errorMessage(err)}` };
    }
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  /** Stops workers (letting running jobs finish within the grace period) and closes the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pruneTimer);
    clearInterval(this.maintenanceTimer);
    await Promise.all(this.workers.map((w) => w.stop(this.config.workers.shutdownGrace)));
    await this.sender.close();
    await this.limitStores.close();
    await this.database.close();
  }

  private registerMetrics(): void {
    collectDefaultMetrics({ register: this.registry, prefix: 'patchbay_' });
    const queue = this.queue;
    const labels = ['queue', 'state'] as const;
    new Gauge({
      name: 'patchbay_queue_jobs',
      help: 'Jobs in the durable queue, by queue and state (ready, claimed, dead).',
      labelNames: labels,
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          for (const s of await queue.stats()) {
            this.set({ queue: s.queue, state: 'ready' }, s.ready);
            this.set({ queue: s.queue, state: 'claimed' }, s.claimed);
            this.set({ queue: s.queue, state: 'dead' }, s.dead);
          }
        } catch {
          // The store being down is reported by /readyz; metrics still answer.
        }
      },
    });
  }
}

/** A part `init` loads from the store; opened without migrating, the engine has none. */
function loaded<T>(part: T | undefined, what: string, code: ErrorCode): T {
  if (part === undefined) {
    throw new PatchbayError(code, `${what}: the engine was opened without migrating the store`);
  }
  return part;
}

export function databaseUrl(config: PatchbayConfig): string {
  return config.database.url ?? `sqlite:${resolve(config.dataDir, 'patchbay.db')}`;
}
