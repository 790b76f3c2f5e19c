import { Counter } from 'prom-client';
import type { PatchbayConfig } from '../core/config/schema.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import type { ModuleContext, PatchbayModule } from '../core/module.js';
import type { Database, Tx } from '../store/database.js';
import type {
  EventBrowseQuery,
  EventQuery,
  InsertOutcome,
  NewEvent,
  StoredEvent,
} from '../store/event-store.js';
import type { WindowPage } from '../store/search-window.js';
import { SourceStore } from '../store/source-store.js';
import { eventRoutes } from './event-routes.js';
import {
  type IngressOptions,
  type IngressOutcome,
  type IngressRequest,
  type SourceView,
  WebhookIngress,
} from './ingress.js';
import { ingressRoute } from './ingress-route.js';
import { EventPipeline, type PublishRequest, type PublishResult, type RouteHook } from './pipeline.js';
import type { SecretSealer } from './secret-sealer.js';
import { sourceRoutes } from './source-routes.js';
import { type SourcePatch, SourceService } from './source-service.js';
import { StoredSources } from './stored-sources.js';

export interface EventsSettings {
  sources: PatchbayConfig['sources'];
  /** Events older than this are pruned (sources may keep theirs longer or shorter). */
  retentionMs: number;
  /** Body limit of sources that set none (the server's). */
  defaultBodyLimit: number;
}

export interface EventsPorts {
  database: Database;
  /** Seals API sources' secrets. */
  sealer: SecretSealer;
  /** Makes the deliveries of new events in the transaction that stores them (the delivery module's). */
  route: RouteHook;
  /** The deliveries of one event, as the API shows them (`GET /events/:id`). */
  deliveriesOf: (eventId: string) => Promise<readonly object[]>;
  /** Told each webhook request's outcome (the engine records them for the sources' health). */
  onOutcome?: IngressOptions['onOutcome'];
}

/** Webhook sources: those of the configuration file (read-only) and those made through the API. */
export interface SourcesService {
  /**
   * Re-reads API-made sources now. Without it a process sees another's changes within a second: a
   * request reads the stored version once the copy is a second old, the admin API on every call.
   */
  refresh(): Promise<void>;
  list(): Promise<SourceView[]>;
  get(id: string): Promise<SourceView | undefined>;
  create(input: unknown): Promise<SourceView>;
  update(id: string, patch: SourcePatch): Promise<SourceView>;
  delete(id: string): Promise<void>;
}

/** What the events module offers: the event log and its front doors (ingress, publish). */
export interface EventsService {
  /**
   * An event of the application's own (routed like any other); repeating `idempotencyKey` is a no-op.
   * Source `api` unless it names another; a webhook source's id and `patchbay` are reserved (an event
   * under them would pass for the sender's, and its key pre-empt a real delivery id).
   */
  publish(input: PublishRequest): Promise<PublishResult>;
  /** Patchbay's own operational events (`connection.needs_reauth`…), published as source `patchbay`. */
  announce(input: Omit<PublishRequest, 'source'>): Promise<PublishResult>;
  /** Stores events built elsewhere (the ingress, syncs), deduplicated and routed; resolves once committed. */
  ingest(events: NewEvent[]): Promise<InsertOutcome[]>;
  /**
   * Stores and routes events inside the caller's transaction (a sync's page: its records, checkpoint and
   * change events commit together or not at all). Repeats are skipped, as in `ingest`.
   */
  appendInTransaction(tx: Tx, events: readonly NewEvent[]): Promise<InsertOutcome[]>;
  /** `POST /webhooks/:sourceId` without the HTTP server. */
  receive(sourceId: string, request: IngressRequest): Promise<IngressOutcome>;
  /** The largest body the server may read for the ingress (each source applies its own limit). */
  readonly ingressBodyLimit: number;
  list(query: EventQuery): Promise<StoredEvent[]>;
  get(id: string): Promise<StoredEvent | undefined>;
  /** Newest first, filtered (payload text included), each page reading a bounded window of the log. */
  browse(query: EventBrowseQuery): Promise<WindowPage<StoredEvent>>;
  /** Events received per `bucketMs` from `from` to `to`. */
  countsByTime(from: number, to: number, bucketMs: number): Promise<number[]>;
  /** Webhook requests this process refused since it started, by source and reason code. */
  rejections(): Promise<{ source: string; code: string; count: number }[]>;
  readonly sources: SourcesService;
}

export type EventsModule = PatchbayModule<EventsService>;

/** Events + ingress: the durable event log, webhook sources and `POST /webhooks/:id`, retention. */
export async function createEventsModule(
  ctx: ModuleContext,
  settings: EventsSettings,
  ports: EventsPorts,
): Promise<EventsModule> {
  const { clock, logger, registry } = ctx;
  const stored = new StoredSources(new SourceStore(ports.database), ports.sealer);
  // The ingress is read at each pruning (sources made through the API bring their own retention), and
  // made before the pipeline: construction reads neither.
  let ingress: WebhookIngress | undefined;
  const pipeline = new EventPipeline({
    database: ports.database,
    clock,
    registry,
    retentionMs: settings.retentionMs,
    retentionBySource: () => ingress?.retentions() ?? new Map(),
    route: ports.route,
  });
  ingress = new WebhookIngress({
    sources: settings.sources,
    pipeline,
    defaultBodyLimit: settings.defaultBodyLimit,
    defaultRetentionMs: settings.retentionMs,
    clock,
    registry,
    logger,
    // Sources other processes made, changed or deleted: at most a second old when a request is matched.
    revalidate: () => admin.revalidate(),
    ...(ports.onOutcome && { onOutcome: ports.onOutcome }),
  });
  const revalidationFailures = new Counter({
    name: 'patchbay_source_revalidation_failures_total',
    help: 'Failed reads of the sources other processes made or changed, by stage: read (the store; the copy serves) or decode (a stored source no longer loads). The log has each.',
    labelNames: ['stage'],
    registers: [registry],
  });
  const admin = new SourceService(stored, ingress, new Set(settings.sources.map((s) => s.id)), {
    clock,
    logger,
    onFailure: (stage) => revalidationFailures.inc({ stage }),
  });
  await admin.refresh();

  const sources: SourcesService = {
    refresh: () => admin.refresh(),
    // The admin API reads the stored version on every call, not once a second.
    async list() {
      await admin.revalidate(true);
      return admin.list();
    },
    async get(id) {
      await admin.revalidate(true);
      return admin.get(id);
    },
    create: (input) => admin.create(input),
    update: (id, patch) => admin.update(id, patch),
    delete: (id) => admin.delete(id),
  };
  const receiving = ingress;
  const service: EventsService = {
    async publish(input) {
      const source = input.source ?? 'api';
      await admin.revalidate();
      if (source === 'patchbay' || receiving.get(source) !== undefined) {
        throw new PatchbayError(
          ErrorCode.INVALID_ARGUMENT,
          `source "${source}" is reserved (${source === 'patchbay' ? "Patchbay's own events" : 'a webhook source'}); publish under another, or the default "api"`,
        );
      }
      return pipeline.publish(input);
    },
    announce: (input) => pipeline.publish({ ...input, source: 'patchbay' }),
    ingest: (events) => pipeline.ingest(events),
    appendInTransaction: (tx, events) => pipeline.appendInTransaction(tx, events),
    receive: (sourceId, request) => receiving.receive(sourceId, request),
    ingressBodyLimit: receiving.routeBodyLimit,
    list: (query) => pipeline.store.list(query),
    get: (id) => pipeline.store.get(id),
    browse: (query) => pipeline.store.browse(query),
    countsByTime: (from, to, bucketMs) => pipeline.store.countsByTime(from, to, bucketMs),
    rejections: () => receiving.rejections(),
    sources,
  };

  let timers: NodeJS.Timeout[] = [];
  return {
    name: 'events',
    service,
    adminRoutes: async (app) => {
      await eventRoutes(app, service, ports.deliveriesOf, clock);
      await sourceRoutes(app, sources);
    },
    publicRoutes: (app) => ingressRoute(app, service),
    async start() {
      // Harmless when several processes prune at once. The sources are read first: an API-made
      // source's own retention must be known before its events are pruned by the default.
      const prune = () =>
        void admin
          .refresh()
          .then(() => pipeline.prune())
          .then((n) => n > 0 && logger.info({ pruned: n }, 'pruned events past retention'))
          .catch((err) => logger.warn({ err: errorMessage(err) }, 'pruning events failed'));
      prune();
      timers = [setInterval(prune, 10 * 60_000)];
      for (const t of timers) t.unref();
    },
    async stop() {
      for (const t of timers) clearInterval(t);
    },
  };
}
