import { Counter } from 'prom-client';
import type { DestinationConfig, PatchbayConfig } from '../../core/config/schema.js';
import { errorMessage, type PatchbayError } from '../../core/errors.js';
import type { LoopBlockReporter } from '../../core/loop-block.js';
import type { ModuleContext, PatchbayModule } from '../../core/module.js';
import type { EventPublisher } from '../../core/publisher.js';
import {
  type Connector,
  checkDestinationUrl,
  createGuardedDispatcherFactory,
  type Resolver,
  SsrfPolicy,
} from '../../http/ssrf/index.js';
import type { Database } from '../../store/database.js';
import { DeliveryStore } from '../../store/delivery-store.js';
import type { LimitStores } from '../../store/limits/index.js';
import type { JobQueue } from '../../store/queue.js';
import { QueueRunner, type WorkerSettings } from '../../store/queue-runner.js';
import type { RouteHook } from '../pipeline.js';
import type { SecretSealer } from '../secret-sealer.js';
import { signStandardWebhook } from '../sign/standard-webhooks.js';
import { type DeliveriesService, deliveriesService } from './deliveries-service.js';
import { DestinationGuard } from './delivery-guard.js';
import { deliveryRoutes } from './delivery-routes.js';
import { DeliveryService } from './delivery-service.js';
import { DeliveryWorker } from './delivery-worker.js';
import { DestinationService } from './destination-service.js';
import {
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DestinationRegistry,
  httpDestinationFromConfig,
} from './destinations.js';
import { HttpSender } from './http-sender.js';
import { MailSender } from './mail/mail-sender.js';
import { ssrfUrl } from './mail/smtp-url.js';
import { createRouter, DELIVERY_QUEUE, ORDERED_QUEUE } from './router.js';
import { StoredDestinations } from './stored-destinations.js';

export interface DeliverySettings {
  destinations: readonly DestinationConfig[];
  delivery: PatchbayConfig['delivery'];
  workers: WorkerSettings;
}

export interface DeliveryPorts {
  database: Database;
  queue: JobQueue;
  /** Rate-limit and breaker state shared by every process (Redis when configured, else the store). */
  limits: LimitStores;
  /** Seals API destinations' secrets and headers. */
  sealer: SecretSealer;
  /** Where operational events (`delivery.exhausted`, `destination.disabled`…) go: the event log. */
  publisher: EventPublisher;
  /**
   * How deliveries reach the network behind the SSRF guard (tests inject both to prove which addresses
   * are, and are never, dialled). Defaults to the system's DNS and undici's connector.
   */
  network?: { resolver?: Resolver; connect?: Connector };
  /** Told when an in-process handler held the event loop over 50 ms. */
  onLoopBlock?: LoopBlockReporter;
}

export type DeliveryModule = PatchbayModule<DeliveriesService>;

/**
 * Outbound delivery: destinations (configuration, API, in-process handlers), the router that makes one
 * delivery per matching destination, the queues that send them (with retries, dead letters, ordering),
 * per-destination breaker and limits, replay and recovery.
 */
export async function createDeliveryModule(
  ctx: ModuleContext,
  settings: DeliverySettings,
  ports: DeliveryPorts,
): Promise<DeliveryModule> {
  const { clock, logger, registry: metrics } = ctx;
  const { delivery, workers } = settings;
  const store = new DeliveryStore(ports.database);
  const timeoutMs = delivery.timeout ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const stored = new StoredDestinations(store, ports.sealer, timeoutMs);
  const revalidationFailures = new Counter({
    name: 'patchbay_destination_revalidation_failures_total',
    help: 'Failed reads of the destinations other processes made or changed, by stage: read (the store; the copy serves) or decode (a stored destination no longer loads). The log has each.',
    labelNames: ['stage'] as const,
    registers: [metrics],
  });
  const registry = new DestinationRegistry(store, clock, (id) => stored.load(id), {
    logger,
    onFailure: (stage) => revalidationFailures.inc({ stage }),
  });
  for (const [i, destination] of settings.destinations.entries()) {
    // What the admin API refuses (a blocked address literal, plain http outside allowedNetworks) started
    // without a word: it is said at start, and every attempt fails with the guard's code (decision 0041).
    try {
      checkDestinationUrl(ssrfUrl(destination.url), { allowedNetworks: delivery.allowedNetworks });
    } catch (err) {
      logger.warn(
        { destination: destination.id, code: (err as PatchbayError).code },
        `destinations[${i}] (${destination.id}): ${errorMessage(err)}; every delivery to it will fail (delivery.allowedNetworks opens a network)`,
      );
    }
    registry.define(httpDestinationFromConfig(destination, timeoutMs));
  }
  // Every delivery connects through the SSRF guard: https only, and the resolved address (the one
  // connected to) outside private ranges unless `delivery.allowedNetworks` permits it.
  const sender = new HttpSender(
    createGuardedDispatcherFactory({
      allowedNetworks: delivery.allowedNetworks,
      // A process never has more attempts in flight than its workers run at once; a smaller pool would
      // queue them behind hanging requests (a per-destination cap is `rateLimit.maxConcurrent`).
      poolOptions: { connections: workers.concurrency },
      ...(ports.network?.resolver && { resolver: ports.network.resolver }),
      ...(ports.network?.connect && { connect: ports.network.connect }),
    }),
    () => clock.now(),
  );
  // E-mail destinations dial their mail server through the same rule (decision 0117).
  const mailer = new MailSender({
    policy: new SsrfPolicy({ allowedNetworks: delivery.allowedNetworks }),
    ...(ports.network?.resolver && { resolver: ports.network.resolver }),
    now: () => clock.now(),
  });
  const guard = new DestinationGuard({
    rateLimits: ports.limits.rateLimits,
    breakers: ports.limits.breakers,
    clock,
    publisher: ports.publisher,
    registry: metrics,
    logger,
    ...(delivery.limitWait !== undefined && { maxWaitMs: delivery.limitWait }),
    onOpen: async (destinationId, until) => {
      await operations.postponeBacklog(destinationId, until);
    },
  });
  const worker = new DeliveryWorker({
    database: ports.database,
    deliveries: store,
    registry,
    sender,
    mailer,
    sign: signStandardWebhook,
    clock,
    logger,
    schedule: {
      ...(delivery.retrySchedule && { schedule: delivery.retrySchedule }),
      ...(delivery.overloadBackoff !== undefined && { overloadMinimumMs: delivery.overloadBackoff }),
      ...(delivery.jitter !== undefined && { jitter: delivery.jitter }),
    },
    ...(delivery.disableAfter !== undefined && { disableAfterMs: delivery.disableAfter }),
    publisher: ports.publisher,
    guard,
    registryMetrics: metrics,
    ...(ports.onLoopBlock && { onLoopBlock: ports.onLoopBlock }),
  });
  const operations = new DeliveryService(ports.database, store, registry, ports.queue, clock);
  const admin = new DestinationService({
    store,
    registry,
    stored,
    configIds: new Set(settings.destinations.map((d) => d.id)),
    defaultTimeoutMs: timeoutMs,
    allowedNetworks: delivery.allowedNetworks,
    ...(ports.network?.resolver && { resolver: ports.network.resolver }),
    clock,
    logger,
    onDecodeFailure: () => revalidationFailures.inc({ stage: 'decode' }),
  });
  const route: RouteHook = createRouter(registry, store, ports.queue, clock);

  // Runtime state construction cannot hold: the destinations' state rows, the API-made destinations.
  // Later, what other processes change is read by versioned reads (decision 0052), not on a timer.
  await registry.sync(new Set(settings.destinations.filter((d) => d.disabled).map((d) => d.id)));
  await admin.adopt();

  const runner = new QueueRunner(ports.database, ports.queue, workers, clock, logger, [
    {
      queue: DELIVERY_QUEUE,
      handler: (job, jobCtx) => worker.handleDeliveryJob(job as never, jobCtx),
    },
    {
      queue: ORDERED_QUEUE,
      handler: (job, jobCtx) => worker.handleOrderedJob(job as never, jobCtx),
    },
  ]);
  const sweepFailures = new Counter({
    name: 'patchbay_delivery_refresh_failures_total',
    help: 'Periodic sweeps of ordered queues that failed (the log has each error).',
    labelNames: ['what'] as const,
    registers: [metrics],
  });
  let maintenance: NodeJS.Timeout | undefined;

  const service = deliveriesService({ store, registry, operations, admin, worker, guard, route, clock });
  return {
    name: 'delivery',
    service,
    adminRoutes: (app) => deliveryRoutes(app, service, clock),
    async start() {
      await runner.start();
      // Ordered queues need a nudge when one is stuck. (Destinations are not on a timer: routing and the
      // admin API read their stored version.)
      maintenance = setInterval(() => {
        operations.sweepOrdered().catch((err: unknown) => {
          sweepFailures.inc({ what: 'ordered-queues' });
          logger.warn({ err, what: 'ordered-queues' }, 'periodic delivery maintenance failed');
        });
      }, 5000);
      maintenance.unref();
    },
    async stop() {
      clearInterval(maintenance);
      await runner.stop();
      await sender.close();
    },
  };
}
