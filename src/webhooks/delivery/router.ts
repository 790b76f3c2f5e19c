import type { Clock } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import { contextOf, tracer } from '../../core/tracing.js';
import type { Tx } from '../../store/database.js';
import type { Delivery, DeliveryStore } from '../../store/delivery-store.js';
import type { NewEvent } from '../../store/event-store.js';
import type { JobQueue, NewJob } from '../../store/queue.js';
import type { RouteHook } from '../pipeline.js';
import type { DestinationRegistry } from './destinations.js';

export const DELIVERY_QUEUE = 'deliveries';
export const ORDERED_QUEUE = 'deliveries-ordered';
/** Jobs retry by rescheduling themselves; this only bounds a delivery that keeps crashing its worker. */
export const DELIVERY_JOB_MAX_ATTEMPTS = 200;

export function orderedJobId(destinationId: string): string {
  return `ordered_${destinationId}`;
}

/**
 * The job that sends a delivery. Its id is the delivery's: a delivery has at most one job (enqueueing
 * it again while it exists is a no-op), and a replay or a breaker's postponement finds it by the
 * delivery's id. This is the one place that ties the two.
 */
export function deliveryJob(deliveryId: string): NewJob<{ deliveryId: string }> & { id: string } {
  return {
    id: deliveryJobId(deliveryId),
    queue: DELIVERY_QUEUE,
    payload: { deliveryId },
    maxAttempts: DELIVERY_JOB_MAX_ATTEMPTS,
  };
}

export function deliveryJobId(deliveryId: string): string {
  return deliveryId;
}

/** The job that drains an ordered destination, one delivery at a time. */
export function orderedJob(destinationId: string): NewJob<{ destinationId: string }> & { id: string } {
  return {
    id: orderedJobId(destinationId),
    queue: ORDERED_QUEUE,
    payload: { destinationId },
    maxAttempts: DELIVERY_JOB_MAX_ATTEMPTS,
  };
}

/**
 * The router: for each new event, one delivery per matching destination, written in the transaction
 * that stores the event (with the job that will send it). A destination that is disabled still gets
 * its delivery, recorded as failed, so re-enabling and recovering it loses nothing.
 */
export function createRouter(
  registry: DestinationRegistry,
  store: DeliveryStore,
  queue: JobQueue,
  clock: Clock,
): RouteHook {
  return async (tx: Tx, events: readonly NewEvent[]) => {
    const now = clock.now();
    const rows: Delivery[] = [];
    const jobs: NewJob[] = [];
    const orderedDestinations = new Set<string>();
    // Destinations other processes made, changed, enabled, disabled or deleted: at most a second old.
    const revalidating = registry.revalidate({ tx });
    if (revalidating) await revalidating;
    for (const event of events) {
      const routing = event.traceParent
        ? tracer().startSpan(
            'route',
            { attributes: { 'patchbay.event_id': event.id, 'patchbay.event_type': event.type } },
            contextOf(event.traceParent),
          )
        : undefined;
      let matched = 0;
      for (const destination of registry.matching(`${event.source}.${event.type}`)) {
        matched++;
        const { enabled } = destination;
        const id = newId('dlv', now);
        rows.push({
          id,
          eventId: event.id,
          destinationId: destination.id,
          status: enabled ? 'pending' : 'failed',
          attempts: 0,
          cycleAttempts: 0,
          nextAttemptAt: enabled ? now : null,
          lastStatus: null,
          lastError: enabled ? null : 'destination disabled',
          failingNotified: false,
          manual: false,
          createdAt: now,
          updatedAt: now,
          succeededAt: null,
        });
        if (!enabled) continue;
        if (destination.ordered) orderedDestinations.add(destination.id);
        else jobs.push(deliveryJob(id));
      }
      routing?.setAttribute('patchbay.destinations', matched);
      routing?.end();
    }
    if (rows.length === 0) return;
    await store.insertMany(tx, rows);
    for (const destinationId of orderedDestinations) jobs.push(orderedJob(destinationId));
    await queue.enqueue(tx, jobs);
  };
}
