import type { Clock } from '../../core/clock.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { Database } from '../../store/database.js';
import type { Delivery, DeliveryStore } from '../../store/delivery-store.js';
import type { JobQueue, NewJob } from '../../store/queue.js';
import type { DestinationRegistry } from './destinations.js';
import {
  DELIVERY_QUEUE,
  deliveryJob,
  deliveryJobId,
  ORDERED_QUEUE,
  orderedJob,
  orderedJobId,
} from './router.js';

/** Recovery reaches back at most this far (Svix: 14 days). */
export const MAX_RECOVER_WINDOW_MS = 14 * 86_400_000;
/** …and replays at most this many deliveries per call. */
export const MAX_RECOVER_COUNT = 10_000;

export interface RecoverOptions {
  /** Failed deliveries created at or after this time (ms). */
  since: number;
  /** At most this many; defaults to and is capped at MAX_RECOVER_COUNT. */
  limit?: number;
  /** Called after each chunk with how many are done of how many. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Operator actions on deliveries: replay one, recover a destination's failures since a time. A replay
 * restarts the delivery's retry schedule; its first attempt is logged with trigger `manual`.
 */
export class DeliveryService {
  constructor(
    private readonly database: Database,
    private readonly store: DeliveryStore,
    private readonly registry: DestinationRegistry,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
  ) {}

  async replay(deliveryId: string): Promise<Delivery> {
    const delivery = await this.store.get(deliveryId);
    if (!delivery) throw new PatchbayError(ErrorCode.NOT_FOUND, `no delivery ${deliveryId}`);
    await this.registry.revalidate();
    await this.replayMany([delivery]);
    return (await this.store.get(deliveryId))!;
  }

  /** Replays a destination's failed deliveries created since `since` (bounded in time and count). */
  async recover(destinationId: string, options: RecoverOptions): Promise<{ replayed: number }> {
    if (!this.registry.get(destinationId) && !(await this.store.destination(destinationId))) {
      throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${destinationId}`);
    }
    const now = this.clock.now();
    if (!Number.isFinite(options.since) || options.since < now - MAX_RECOVER_WINDOW_MS) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'since must be within the last 14 days');
    }
    const limit = Math.min(options.limit ?? MAX_RECOVER_COUNT, MAX_RECOVER_COUNT);
    if (!Number.isInteger(limit) || limit < 1)
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `limit must be 1–${MAX_RECOVER_COUNT}`);
    const ids = await this.store.idsFor(destinationId, 'failed', options.since, limit);
    await this.registry.revalidate();
    let done = 0;
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      await this.replayMany(await this.store.getMany(chunk));
      done += chunk.length;
      options.onProgress?.(done, ids.length);
    }
    return { replayed: ids.length };
  }

  private async replayMany(deliveries: readonly Delivery[]): Promise<void> {
    const now = this.clock.now();
    await this.database.transaction(async (tx) => {
      await this.store.markReplayed(
        tx,
        deliveries.map((d) => d.id),
        now,
      );
      const ordered = new Set<string>();
      const jobs: NewJob[] = [];
      for (const d of deliveries) {
        if (this.registry.isOrdered(d.destinationId)) ordered.add(d.destinationId);
        else jobs.push(deliveryJob(d.id));
      }
      for (const destinationId of ordered) jobs.push(orderedJob(destinationId));
      // A job dead-lettered by the queue itself (it crashed its worker) must not block the replay.
      await this.queue.enqueue(tx, jobs, { replaceDead: true });
    });
  }

  /** Moves a destination's waiting backlog to `until` (its breaker opened and half-opens then). */
  async postponeBacklog(destinationId: string, until: number): Promise<number> {
    const ids = await this.store.pendingIds(destinationId);
    return this.queue.postpone(DELIVERY_QUEUE, ids.map(deliveryJobId), until);
  }

  /**
   * Makes sure every ordered destination with pending deliveries has its drain job (a delivery routed
   * while the drain job was finishing could otherwise wait unattended). Run periodically.
   */
  async sweepOrdered(): Promise<void> {
    // Ordered API destinations another process made are among them once their rows are read.
    await this.registry.revalidate();
    for (const id of this.registry.orderedIds()) {
      if (!(await this.store.oldestPending(id))) continue;
      // A drain job the queue dead-lettered (it crashed its worker again and again) would otherwise hold
      // the id forever, and the add below would be a no-op.
      await this.queue.requeueDead(ORDERED_QUEUE, [orderedJobId(id)]);
      await this.queue.add([orderedJob(id)]);
    }
  }
}
