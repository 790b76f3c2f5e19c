import type { Clock } from '../../core/clock.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type {
  AttemptCounts,
  Delivery,
  DeliveryAttempt,
  DeliveryBrowseQuery,
  DeliveryQuery,
  DeliveryStore,
} from '../../store/delivery-store.js';
import type { JobOutcome } from '../../store/queue-worker.js';
import type { WindowPage } from '../../store/search-window.js';
import type { RouteHook } from '../pipeline.js';
import type { DestinationGuard } from './delivery-guard.js';
import type { DeliveryService, RecoverOptions } from './delivery-service.js';
import { deliveryView, destinationView } from './delivery-views.js';
import type { DeliveryWorker } from './delivery-worker.js';
import type { DestinationService } from './destination-service.js';
import { DEFAULT_DELIVERY_TIMEOUT_MS, type DestinationRegistry, type EventHandler } from './destinations.js';
import { compileFilters, validatePattern } from './event-filter.js';

/** A destination as the API shows it: its definition without secrets, with its state. */
export type DestinationView = ReturnType<typeof destinationView>;
export type DeliveryView = ReturnType<typeof deliveryView>;

export interface HandlerOptions {
  /** Destination id of the handler; defaults to one made from the patterns. */
  id?: string;
  timeoutMs?: number;
  /** One event at a time, in order (a failing head holds the rest back). */
  ordered?: boolean;
}

/**
 * What the delivery module offers the server, the CLI and other modules. Destinations come out as views
 * (no secret ever leaves the module); deliveries as stored.
 */
export interface DeliveriesService {
  /** Makes the deliveries of new events, in the transaction that stores them (the event log's router). */
  readonly route: RouteHook;
  /**
   * Subscribes an in-process handler, with the same retries, dead letters and replay as an HTTP
   * destination. `pattern` filters on `<sourceId>.<type>`. Register handlers before starting workers,
   * in every process that runs them.
   */
  on(pattern: string | string[], handler: EventHandler, options?: HandlerOptions): Promise<void>;
  list(query: DeliveryQuery): Promise<Delivery[]>;
  get(id: string): Promise<Delivery | undefined>;
  attempts(deliveryId: string): Promise<DeliveryAttempt[]>;
  /** Newest first, filtered, each page reading a bounded window of deliveries. */
  browse(query: DeliveryBrowseQuery): Promise<WindowPage<Delivery>>;
  /** Attempts made per `bucketMs` from `from` to `to`, by outcome. */
  attemptCounts(from: number, to: number, bucketMs: number): Promise<AttemptCounts[]>;
  /** The deliveries of one event as the API shows them (at most 500). */
  forEvent(eventId: string): Promise<DeliveryView[]>;
  /** Sends a delivery again now (restarts its retry schedule). */
  replay(deliveryId: string): Promise<Delivery>;
  /** Replays a destination's failed deliveries since a time (bounded), with progress. */
  recover(destinationId: string, options: RecoverOptions): Promise<{ replayed: number }>;
  /** Makes one attempt of a delivery in this process now, if it is due (tools and tests drive it). */
  attempt(deliveryId: string, signal: AbortSignal): Promise<JobOutcome>;
  readonly destinations: DestinationsService;
}

export interface DestinationsService {
  /** Every destination, with its state (API ones another process made included). */
  list(): Promise<DestinationView[]>;
  get(id: string): Promise<DestinationView | undefined>;
  /** `secret` is there, once, when none was given and one was generated. */
  create(input: unknown): Promise<DestinationView & { secret?: string }>;
  /** The signing secrets of an HTTP destination, for an admin to give the receiver. */
  secrets(id: string): Promise<readonly string[]>;
  update(id: string, patch: Record<string, unknown>): Promise<DestinationView>;
  /** A new signing secret (returned once), the previous one still signing until it is removed. */
  rotateSecret(id: string): Promise<DestinationView & { secret: string }>;
  delete(id: string): Promise<void>;
  enable(id: string): Promise<DestinationView>;
  disable(id: string, reason: string): Promise<DestinationView>;
  /** The breaker of a destination as this process sees it. */
  breakerState(id: string): 'closed' | 'open' | 'half-open';
}

interface Parts {
  store: DeliveryStore;
  registry: DestinationRegistry;
  operations: DeliveryService;
  admin: DestinationService;
  worker: DeliveryWorker;
  guard: DestinationGuard;
  route: RouteHook;
  clock: Clock;
}

export function deliveriesService(p: Parts): DeliveriesService {
  const { store, registry, operations, admin } = p;
  const view = async (id: string) => {
    const destination = registry.get(id);
    return destination && destinationView(destination, await registry.state(id));
  };
  const known = async (id: string) => {
    const found = await view(id);
    if (!found) throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
    return found;
  };
  const destinations: DestinationsService = {
    // The admin API reads the stored version on every call, not once a second: what another process
    // made, changed or deleted is there at once.
    async list() {
      await admin.revalidate(true);
      const all = registry.all();
      return Promise.all(all.map(async (d) => destinationView(d, await registry.state(d.id))));
    },
    async get(id) {
      await admin.revalidate(true);
      return view(id);
    },
    async create(input) {
      const { destination, generatedSecret } = await admin.create(input);
      return { ...(await known(destination.id)), ...(generatedSecret && { secret: generatedSecret }) };
    },
    secrets: (id) => admin.secrets(id),
    async update(id, patch) {
      await admin.update(id, patch);
      return known(id);
    },
    async rotateSecret(id) {
      const secret = await admin.rotateSecret(id);
      return { ...(await known(id)), secret };
    },
    delete: (id) => admin.delete(id),
    async enable(id) {
      await known(id);
      await registry.enable(id);
      return known(id);
    },
    async disable(id, reason) {
      await known(id);
      await registry.disable(id, reason);
      return known(id);
    },
    breakerState: (id) => p.guard.breakerState(id),
  };
  return {
    route: p.route,
    async on(pattern, handler, options = {}) {
      const patterns = Array.isArray(pattern) ? pattern : [pattern];
      for (const each of patterns) {
        const problem = validatePattern(each);
        if (problem) throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, problem);
      }
      const id = options.id ?? `handler-${patterns.join('+').replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
      registry.define({
        kind: 'handler',
        id,
        events: patterns,
        matches: compileFilters(patterns),
        handler,
        timeoutMs: options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
        ordered: options.ordered ?? false,
      });
      await store.ensureDestination(id, 'handler', p.clock.now());
      registry.invalidate();
      await registry.load();
    },
    list: (query) => store.list(query),
    get: (id) => store.get(id),
    attempts: (id) => store.attempts(id),
    browse: (query) => store.browse(query),
    attemptCounts: (from, to, bucketMs) => store.attemptCountsByTime(from, to, bucketMs),
    forEvent: async (eventId) => (await store.list({ eventId, limit: 500 })).map(deliveryView),
    replay: (id) => operations.replay(id),
    recover: (id, options) => operations.recover(id, options),
    attempt: (id, signal) => p.worker.attempt(id, signal),
    destinations,
  };
}
