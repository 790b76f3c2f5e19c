import { Counter, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import { ErrorCode, errorMessage, truncateBody } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import { type EventPublisher, nullPublisher } from '../../core/publisher.js';
import type { Database } from '../../store/database.js';
import type { Delivery, DeliveryStore, DestinationState } from '../../store/delivery-store.js';
import type { EventStore, StoredEvent } from '../../store/event-store.js';
import type { Job } from '../../store/queue.js';
import type { JobContext, JobOutcome } from '../../store/queue-worker.js';
import {
  type Destination,
  type DestinationRegistry,
  decodePayload,
  type HandlerDestination,
  type HttpDestination,
  toDeliveredEvent,
} from './destinations.js';
import type { AttemptResult, HttpSender } from './http-sender.js';
import { nextRetryDelay, type ScheduleOptions } from './retry-schedule.js';

/** Signs an outgoing delivery: returns the `webhook-*` headers (Standard Webhooks). */
export type DeliverySigner = (input: {
  id: string;
  timestamp: number;
  body: Buffer;
  secrets: readonly string[];
}) => Record<string, string>;

/**
 * Decides, per destination, whether an attempt may go now (circuit breaker, rate limit, concurrency) and
 * learns from its outcome. The default lets everything through.
 */
export interface DeliveryGuard {
  /** `{ go: true, release }`, or `{ go: false, retryAt }` to come back later without counting an attempt. */
  acquire(
    destination: Destination,
    signal: AbortSignal,
  ): Promise<
    { go: true; release: (result: AttemptResult) => void } | { go: false; retryAt: number; reason: string }
  >;
}

export const openGuard: DeliveryGuard = {
  async acquire() {
    return { go: true, release: () => {} };
  },
};

export interface DeliveryWorkerOptions {
  database: Database;
  deliveries: DeliveryStore;
  events: EventStore;
  registry: DestinationRegistry;
  sender: HttpSender;
  sign: DeliverySigner;
  clock: Clock;
  logger: Logger;
  schedule?: ScheduleOptions;
  /** A destination failing continuously this long is disabled when a delivery exhausts its schedule. Defaults to 5 days. */
  disableAfterMs?: number;
  /** Failed attempts in a cycle before `delivery.failing` is published. Defaults to 4. */
  failingAfter?: number;
  publisher?: EventPublisher;
  guard?: DeliveryGuard;
  random?: () => number;
  registryMetrics?: Registry;
  userAgent?: string;
}

export const OPERATIONAL_SOURCE = 'patchbay';

/**
 * Sends deliveries and applies the delivery rules: only 2xx succeeds; failures follow the retry schedule
 * (with jitter, a longer minimum after 429/timeouts, bounded `Retry-After`); an exhausted schedule
 * dead-letters the delivery; 410 disables the destination; a destination failing for `disableAfterMs` is
 * disabled; operational events announce each of these. Every try is written to the attempts log in the
 * same transaction as the delivery's new state.
 */
export class DeliveryWorker {
  private readonly publisher: EventPublisher;
  private readonly guard: DeliveryGuard;
  private readonly random: () => number;
  private readonly disableAfterMs: number;
  private readonly failingAfter: number;
  private readonly userAgent: string;
  private readonly attemptsTotal?: Counter<'destination' | 'outcome'>;
  private readonly attemptDuration?: Histogram<'destination'>;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.publisher = options.publisher ?? nullPublisher;
    this.guard = options.guard ?? openGuard;
    this.random = options.random ?? Math.random;
    this.disableAfterMs = options.disableAfterMs ?? 5 * 86_400_000;
    this.failingAfter = options.failingAfter ?? 4;
    this.userAgent = options.userAgent ?? 'Patchbay-Webhooks/1';
    if (options.registryMetrics) {
      this.attemptsTotal = new Counter({
        name: 'patchbay_delivery_attempts_total',
        help: 'Delivery attempts by destination and outcome (succeeded, failed).',
        labelNames: ['destination', 'outcome'],
        registers: [options.registryMetrics],
      });
      this.attemptDuration = new Histogram({
        name: 'patchbay_delivery_attempt_duration_seconds',
        help: 'Time from sending a delivery to its response, by destination.',
        labelNames: ['destination'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30],
        registers: [options.registryMetrics],
      });
    }
  }

  /** Job handler of the `deliveries` queue: one attempt of one delivery. */
  async handleDeliveryJob(job: Job<{ deliveryId: string }>, ctx: JobContext): Promise<JobOutcome> {
    return this.attempt(job.payload.deliveryId, ctx.signal);
  }

  /**
   * Job handler of the `deliveries-ordered` queue: the oldest pending delivery of one destination, one at a
   * time. The job reschedules itself while the destination has work, and rests when it has none.
   */
  async handleOrderedJob(job: Job<{ destinationId: string }>, ctx: JobContext): Promise<JobOutcome> {
    const { deliveries, clock } = this.options;
    for (;;) {
      if (ctx.signal.aborted) return { retryAt: clock.now(), error: 'shutting down' };
      const head = await deliveries.oldestPending(job.payload.destinationId);
      if (!head) return undefined;
      if ((head.next_attempt_at ?? 0) > clock.now())
        return { retryAt: head.next_attempt_at!, error: 'waiting for the head delivery' };
      const outcome = await this.attempt(head.id, ctx.signal);
      if (outcome && 'retryAt' in outcome) return outcome; // the head failed: everything behind it waits
    }
  }

  /** One attempt of a delivery, if it is due; returns when to come back, if ever. */
  async attempt(deliveryId: string, signal: AbortSignal): Promise<JobOutcome> {
    const { deliveries, registry, clock, logger } = this.options;
    const delivery = await deliveries.get(deliveryId);
    if (delivery?.status !== 'pending') return undefined;
    const now = clock.now();
    if (delivery.next_attempt_at !== null && delivery.next_attempt_at > now) {
      return { retryAt: delivery.next_attempt_at, error: 'not due yet' };
    }
    const destination = registry.get(delivery.destination_id);
    if (!destination) {
      // A handler registered in another process: leave the delivery to it, without counting an attempt.
      const state = await registry.state(delivery.destination_id);
      if (state?.origin === 'handler')
        return { retryAt: now + 5000, error: 'handler not registered in this process' };
      await this.deadLetter(delivery, 'destination no longer exists');
      return undefined;
    }
    const state = await registry.state(destination.id);
    if (state?.status === 'disabled') {
      await this.deadLetter(delivery, `destination disabled: ${state.disabled_reason ?? 'by an operator'}`);
      return undefined;
    }
    const event = await this.options.events.get(delivery.event_id);
    if (!event) {
      await this.deadLetter(delivery, 'event no longer in the log (past retention)');
      return undefined;
    }
    const permit = await this.guard.acquire(destination, signal);
    if (!permit.go) return { retryAt: permit.retryAt, error: permit.reason };
    // Neither path throws: every failure becomes an AttemptResult.
    const result =
      destination.kind === 'http'
        ? await this.sendHttp(destination, event, signal)
        : await this.runHandler(destination, event, delivery, signal);
    permit.release(result);
    if (signal.aborted && result.errorCode === ErrorCode.ABORTED) {
      // Shutting down mid-attempt: not the receiver's fault, try again without counting it.
      return { retryAt: clock.now(), error: 'interrupted by shutdown' };
    }
    this.attemptsTotal?.inc({ destination: destination.id, outcome: result.outcome });
    this.attemptDuration?.observe({ destination: destination.id }, result.durationMs / 1000);
    const next = await this.record(delivery, destination, state, result, event.source === OPERATIONAL_SOURCE);
    if (next !== undefined) {
      logger.debug(
        { deliveryId, destination: destination.id, status: result.statusCode, error: result.errorCode },
        'delivery attempt failed',
      );
      return { retryAt: next, error: result.errorMessage ?? 'failed' };
    }
    return undefined;
  }

  private async sendHttp(
    destination: HttpDestination,
    event: StoredEvent,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    const now = this.options.clock.now();
    const body = Buffer.from(
      JSON.stringify({
        id: event.id,
        source: event.source,
        type: event.type,
        timestamp: new Date(event.receivedAt).toISOString(),
        data: decodePayload(event),
      }),
    );
    const signature = this.options.sign({
      id: event.id,
      timestamp: Math.floor(now / 1000),
      body,
      secrets: destination.secrets,
    });
    return this.options.sender.send({
      url: destination.url,
      headers: {
        ...destination.headers,
        'content-type': 'application/json',
        'user-agent': this.userAgent,
        ...signature,
      },
      body,
      timeoutMs: destination.timeoutMs,
      signal,
    });
  }

  private async runHandler(
    destination: HandlerDestination,
    event: StoredEvent,
    delivery: Delivery,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    const started = this.options.clock.now();
    const timeout = AbortSignal.timeout(destination.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    const result = (
      outcome: 'succeeded' | 'failed',
      errorCode: string | null,
      message: string | null,
    ): AttemptResult => ({
      outcome,
      statusCode: null,
      responseHeaders: null,
      responseBody: null,
      errorCode,
      errorMessage: message,
      durationMs: this.options.clock.now() - started,
      overloaded: errorCode === ErrorCode.TIMEOUT,
      gone: false,
    });
    try {
      await Promise.race([
        destination.handler(toDeliveredEvent(event), {
          deliveryId: delivery.id,
          attempt: delivery.attempts + 1,
          signal: combined,
        }),
        new Promise<never>((_, reject) =>
          combined.addEventListener('abort', () => reject(combined.reason), { once: true }),
        ),
      ]);
      return result('succeeded', null, null);
    } catch (err) {
      if (timeout.aborted)
        return result(
          'failed',
          ErrorCode.TIMEOUT,
          `handler did not finish within ${destination.timeoutMs} ms`,
        );
      if (signal.aborted) return result('failed', ErrorCode.ABORTED, 'aborted (shutting down)');
      return result('failed', 'HANDLER_ERROR', truncateBody(errorMessage(err), 2000));
    }
  }

  /** Writes the attempt and the delivery's next state together; returns the next attempt time if any. */
  private async record(
    delivery: Delivery,
    destination: Destination,
    state: DestinationState | undefined,
    result: AttemptResult,
    operational: boolean,
  ): Promise<number | undefined> {
    const { database, deliveries, clock } = this.options;
    const now = clock.now();
    const attempt = delivery.attempts + 1;
    const cycle = delivery.cycle_attempts + 1;
    const announcements: (() => Promise<void>)[] = [];
    let next: number | undefined;
    await database.transaction(async (tx) => {
      await deliveries.addAttempt(tx, {
        id: newId('att', now),
        delivery_id: delivery.id,
        attempt,
        trigger: delivery.manual ? 'manual' : 'scheduled',
        url: destination.kind === 'http' ? redactUrlForLog(destination.url) : `handler:${destination.id}`,
        started_at: now - result.durationMs,
        duration_ms: Math.round(result.durationMs),
        status_code: result.statusCode,
        response_headers: result.responseHeaders ? JSON.stringify(result.responseHeaders) : null,
        response_body: result.responseBody,
        error_code: result.errorCode,
        error_message: result.errorMessage,
        outcome: result.outcome,
      });
      const common = {
        attempts: attempt,
        cycle_attempts: cycle,
        last_status: result.statusCode,
        manual: 0,
        updated_at: now,
      };
      const fresh = await deliveries.destination(destination.id, tx);
      if (result.outcome === 'succeeded') {
        await deliveries.update(tx, delivery.id, {
          ...common,
          status: 'succeeded',
          succeeded_at: now,
          next_attempt_at: null,
          last_error: null,
        });
        if (fresh?.failing_since != null) {
          await deliveries.updateDestination(
            destination.id,
            { failing_since: null, failure_alerted: 0, updated_at: now },
            tx,
          );
          if (fresh.failure_alerted) {
            announcements.push(() =>
              this.announce(
                'destination.recovered',
                `destination.recovered:${destination.id}:${fresh.failing_since}`,
                { destinationId: destination.id, failingSince: iso(fresh.failing_since!) },
              ),
            );
          }
        }
        return;
      }
      const failingSince = fresh?.failing_since ?? now;
      if (fresh?.failing_since == null)
        await deliveries.updateDestination(destination.id, { failing_since: now, updated_at: now }, tx);
      const errorText = result.errorMessage ?? `HTTP ${result.statusCode}`;
      // Failures delivering operational events are not announced again: that could loop forever.
      const payload = {
        deliveryId: delivery.id,
        eventId: delivery.event_id,
        destinationId: destination.id,
        attempts: attempt,
        lastStatus: result.statusCode,
        lastError: errorText,
      };
      if (result.gone) {
        await deliveries.update(tx, delivery.id, {
          ...common,
          status: 'failed',
          next_attempt_at: null,
          last_error: `${errorText}: the receiver says the endpoint is gone`,
        });
        await deliveries.updateDestination(
          destination.id,
          {
            status: 'disabled',
            disabled_reason: 'receiver answered 410 Gone',
            disabled_at: now,
            updated_at: now,
          },
          tx,
        );
        announcements.push(() =>
          this.announce('destination.disabled', `destination.disabled:${destination.id}:${now}`, {
            destinationId: destination.id,
            reason: 'receiver answered 410 Gone',
          }),
        );
        return;
      }
      const delay = nextRetryDelay(
        cycle,
        {
          overloaded: result.overloaded,
          ...(result.retryAfterMs !== undefined && { retryAfterMs: result.retryAfterMs }),
        },
        this.options.schedule,
        this.random,
      );
      if (delay === undefined) {
        await deliveries.update(tx, delivery.id, {
          ...common,
          status: 'failed',
          next_attempt_at: null,
          last_error: errorText,
        });
        await deliveries.updateDestination(destination.id, { failure_alerted: 1, updated_at: now }, tx);
        if (!operational)
          announcements.push(() =>
            this.announce('delivery.exhausted', `delivery.exhausted:${delivery.id}:${attempt}`, payload),
          );
        if (now - failingSince >= this.disableAfterMs && state?.status !== 'disabled') {
          const reason = `failing continuously since ${iso(failingSince)}`;
          await deliveries.updateDestination(
            destination.id,
            { status: 'disabled', disabled_reason: reason, disabled_at: now, updated_at: now },
            tx,
          );
          announcements.push(() =>
            this.announce('destination.disabled', `destination.disabled:${destination.id}:${now}`, {
              destinationId: destination.id,
              reason,
            }),
          );
        }
        return;
      }
      next = now + delay;
      const notify = cycle >= this.failingAfter && !delivery.failing_notified;
      await deliveries.update(tx, delivery.id, {
        ...common,
        next_attempt_at: next,
        last_error: errorText,
        ...(notify && { failing_notified: 1 }),
      });
      if (notify) {
        await deliveries.updateDestination(destination.id, { failure_alerted: 1, updated_at: now }, tx);
        if (!operational)
          announcements.push(() =>
            this.announce('delivery.failing', `delivery.failing:${delivery.id}:${attempt}`, payload),
          );
      }
    });
    for (const announce of announcements) await announce();
    return next;
  }

  private async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const { database, deliveries, clock } = this.options;
    await database.transaction((tx) =>
      deliveries.update(tx, delivery.id, {
        status: 'failed',
        next_attempt_at: null,
        last_error: reason,
        updated_at: clock.now(),
      }),
    );
  }

  private async announce(type: string, key: string, payload: Record<string, unknown>): Promise<void> {
    try {
      await this.publisher.publish({ type, payload, idempotencyKey: key });
    } catch (err) {
      this.options.logger.warn({ type, err: errorMessage(err) }, 'could not publish an operational event');
    }
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Destination URLs may carry tokens in their query; the attempts log keeps only scheme, host and path. */
function redactUrlForLog(url: URL): string {
  return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
}
