import { resolve } from 'node:path';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type Clock, systemClock } from '../core/clock.js';
import type { PatchbayConfig } from '../core/config/index.js';
import { errorMessage } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { EventPublisher } from '../core/publisher.js';
import { type Database, openDatabase } from '../store/database.js';
import { migrateToLatest, migrationStatus } from '../store/migrate.js';
import { JobQueue } from '../store/queue.js';
import { type JobHandler, QueueWorker } from '../store/queue-worker.js';
import { EventPipeline, type PublishRequest, type PublishResult } from '../webhooks/pipeline.js';

export interface EngineOptions {
  config: PatchbayConfig;
  logger?: Logger;
  clock?: Clock;
  /** Prometheus registry to register metrics in. Defaults to a fresh one per engine. */
  registry?: Registry;
  /** Apply pending migrations on open. Defaults to true. */
  migrate?: boolean;
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
  private readonly registrations = new Map<string, QueueRegistration<never>>();
  private readonly workers: QueueWorker<unknown>[] = [];
  private stopped = false;
  private pruneTimer: NodeJS.Timeout | undefined;

  private constructor(options: EngineOptions, database: Database) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger({ level: options.config.log.level });
    this.registry = options.registry ?? new Registry();
    this.database = database;
    this.queue = new JobQueue(database, this.clock);
    this.pipeline = new EventPipeline({
      database,
      clock: this.clock,
      registry: this.registry,
      retentionMs: this.config.events.retention,
    });
    this.registerMetrics();
  }

  /** Opens the store (and migrates it unless told not to). Fails with `STORE_UNAVAILABLE` when unreachable. */
  static async open(options: EngineOptions): Promise<Engine> {
    const { config } = options;
    const url = databaseUrl(config);
    const database = await openDatabase(url, {
      sqliteSynchronous: config.database.sqliteSynchronous,
      poolSize: config.database.poolSize,
    });
    try {
      if (options.migrate !== false) await migrateToLatest(database);
      return new Engine(options, database);
    } catch (err) {
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
    await Promise.all(this.workers.map((w) => w.stop(this.config.workers.shutdownGrace)));
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

export function databaseUrl(config: PatchbayConfig): string {
  return config.database.url ?? `sqlite:${resolve(config.dataDir, 'patchbay.db')}`;
}
