import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import { ErrorCode, errorMessage, PatchbayError, truncateBody } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import { LOOP_BLOCK_MS, type LoopBlockReporter, measureSync } from '../../core/loop-block.js';
import { type EventPublisher, nullPublisher } from '../../core/publisher.js';
import { TickBatcher } from '../../core/tick-batcher.js';
import { contextOf, inSpan } from '../../core/tracing.js';
import { isOverloadSignal } from '../../resilience/classification.js';
import { linkedController } from '../../resilience/timers.js';
import type { Database, Tx } from '../../store/database.js';
import type { AttemptContext, Delivery, DeliveryStore, DestinationRun } from '../../store/delivery-store.js';
import type { StoredEvent } from '../../store/event-store.js';
import { GroupCommitter } from '../../store/group-commit.js';
import type { Job } from '../../store/queue.js';
import type { JobContext, JobOutcome } from '../../store/queue-worker.js';
import { type DeliveryGuard, openGuard } from './delivery-guard.js';
import { type AttemptDecision, decideAttempt, HEALTHY_RUN, type RuleSettings } from './delivery-rules.js';
import {
  type Destination,
  type DestinationRegistry,
  decodePayload,
  type HandlerDestination,
  type HttpDestination,
  toDeliveredEvent,
} from './destinations.js';
import type { AttemptResult, HttpSender } from './http-sender.js';
import { mailMessage } from './mail/mail-message.js';
import type { MailSender } from './mail/mail-sender.js';
import { redactUrlForLog } from './redact-url.js';
import type { ScheduleOptions } from './retry-schedule.js';

/** Signs an outgoing delivery: returns the `webhook-*` headers (Standard Webhooks). */
export type DeliverySigner = (input: {
  id: string;
  timestamp: number;
  body: Buffer;
  secrets: readonly string[];
}) => Record<string, string>;

export interface DeliveryWorkerOptions {
  database: Database;
  deliveries: DeliveryStore;
  registry: DestinationRegistry;
  sender: HttpSender;
  /** Sends the attempts of e-mail destinations (`smtp:`/`smtps:` urls); without it they fail. */
  mailer?: MailSender;
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
  /** How long attempt records wait to share a commit, in ms. Defaults to 2. */
  recordLingerMs?: number;
  random?: () => number;
  registryMetrics?: Registry;
  userAgent?: string;
  /** Told when a handler's synchronous part held the event loop over 50 ms. */
  onLoopBlock?: LoopBlockReporter;
}

export const OPERATIONAL_SOURCE = 'patchbay';

interface RecordInput {
  delivery: Delivery;
  destination: Destination;
  result: AttemptResult;
  /** The event is itself operational (source `patchbay`). */
  operational: boolean;
}

interface DestinationMetrics {
  succeeded: Counter.Internal;
  failed: Counter.Internal;
  duration: Histogram.Internal<'destination'>;
}

type RecordOutput = AttemptDecision;

/**
 * Sends deliveries through the destination's guard and applies what the delivery rules decide
 * (`decideAttempt` in delivery-rules.ts). Every try is written to the attempts log in the same
 * transaction as the delivery's new state; failures, dead letters and disabled destinations are logged.
 */
export class DeliveryWorker {
  private readonly publisher: EventPublisher;
  private readonly guard: DeliveryGuard;
  private readonly rules: RuleSettings;
  private readonly userAgent: string;
  private readonly attemptsTotal?: Counter<'destination' | 'outcome'>;
  private readonly attemptDuration?: Histogram<'destination'>;
  /** Metric children per destination: resolving labels on every attempt costs more than the update. */
  private readonly metrics = new Map<string, DestinationMetrics>();
  /** Attempts starting together load their delivery, event and destination state in one query. */
  private readonly loader: TickBatcher<string, AttemptContext>;
  /** Attempts finishing together are recorded in one transaction (one fsync), like ingest. */
  private readonly recorder: GroupCommitter<RecordInput, RecordOutput>;
  /** Attempts between their start and the submission of their record. */
  private trying = 0;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.publisher = options.publisher ?? nullPublisher;
    this.guard = options.guard ?? openGuard;
    this.rules = {
      ...(options.schedule && { schedule: options.schedule }),
      disableAfterMs: options.disableAfterMs ?? 5 * 86_400_000,
      failingAfter: options.failingAfter ?? 4,
      random: options.random ?? Math.random,
    };
    this.userAgent = options.userAgent ?? 'Patchbay-Webhooks/1';
    this.loader = new TickBatcher((ids) => options.deliveries.loadForAttempt(ids));
    // Responses arrive one per socket, rarely two in one turn: a 2 ms linger lets tens of attempt
    // records share one commit (one fsync). The linger ends early once no attempt is left in flight:
    // waiting then would only leave the process idle.
    this.recorder = new GroupCommitter(options.database, (tx, items) => this.recordBatch(tx, items), {
      lingerMs: options.recordLingerMs ?? 2,
      moreComing: () => this.trying > 0,
    });
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
      // Every return but success is the drain job waiting (for a head's retry, a limit, shutdown): none
      // spends the job's attempts, or a busy destination's drain job would be dead-lettered in time.
      if (ctx.signal.aborted) return { retryAt: clock.now(), error: 'shutting down', deferred: true };
      const head = await deliveries.oldestPending(job.payload.destinationId);
      if (!head) return undefined;
      if ((head.nextAttemptAt ?? 0) > clock.now())
        return { retryAt: head.nextAttemptAt!, error: 'waiting for the head delivery', deferred: true };
      const outcome = await this.attempt(head.id, ctx.signal);
      // The head failed or was deferred: everything behind it waits.
      if (outcome && 'retryAt' in outcome) return { ...outcome, deferred: true };
    }
  }

  /** One attempt of a delivery, if it is due; returns when to come back, if ever. */
  async attempt(deliveryId: string, signal: AbortSignal): Promise<JobOutcome> {
    let tried: RecordInput | { outcome: JobOutcome };
    this.trying++;
    try {
      tried = await this.tryOnce(deliveryId, signal);
    } finally {
      this.trying--;
    }
    if ('outcome' in tried) return tried.outcome;
    const decision = await this.recorder.submit(tried);
    this.logDecision(tried, decision);
    for (const announce of decision.announcements)
      await this.announce(announce.type, announce.key, announce.payload);
    if (decision.next !== undefined)
      return { retryAt: decision.next, error: tried.result.errorMessage ?? 'failed' };
    return undefined;
  }

  /**
   * Failed attempts, dead letters and disabled destinations, at warn: an operator reading the log sees
   * why deliveries are not arriving without querying the attempts log.
   */
  private logDecision(tried: RecordInput, decision: AttemptDecision): void {
    if (decision.outcome === 'succeeded') return;
    const { delivery, destination, result } = tried;
    const fields = {
      deliveryId: delivery.id,
      destination: destination.id,
      attempt: delivery.attempts + 1,
      status: result.statusCode,
      errorCode: result.errorCode,
      error: result.errorMessage,
    };
    const { logger } = this.options;
    if (decision.outcome === 'retrying')
      logger.warn({ ...fields, nextAttemptAt: iso(decision.next!) }, 'delivery attempt failed, will retry');
    else logger.warn(fields, 'delivery attempt failed, dead-lettered (no attempts left)');
    if (decision.disabled !== undefined)
      logger.warn(
        {
          destination: destination.id,
          reason: decision.disabled,
          status: result.statusCode,
          errorCode: result.errorCode,
        },
        'destination disabled',
      );
  }

  /** Sends a delivery if it is due; returns what to record, or the job's outcome when nothing was sent. */
  private async tryOnce(
    deliveryId: string,
    signal: AbortSignal,
  ): Promise<RecordInput | { outcome: JobOutcome }> {
    const { deliveries, registry, clock } = this.options;
    const context = await this.loader.load(deliveryId);
    if (!context) {
      const orphan = await deliveries.get(deliveryId);
      if (orphan?.status === 'pending')
        await this.deadLetter(orphan, 'event no longer in the log (past retention)');
      return { outcome: undefined };
    }
    const { delivery, event, destination: state } = context;
    if (delivery.status !== 'pending') return { outcome: undefined };
    const now = clock.now();
    if (delivery.nextAttemptAt !== null && delivery.nextAttemptAt > now) {
      return { outcome: { retryAt: delivery.nextAttemptAt, error: 'not due yet', deferred: true } };
    }
    const destination = await registry.forAttempt(delivery.destinationId, state);
    if (!destination) {
      // A handler registered in another process: leave the delivery to it, without counting an attempt.
      if (state?.origin === 'handler')
        return {
          outcome: { retryAt: now + 5000, error: 'handler not registered in this process', deferred: true },
        };
      await this.deadLetter(delivery, 'destination no longer exists');
      return { outcome: undefined };
    }
    if (state?.status === 'disabled') {
      await this.deadLetter(delivery, `destination disabled: ${state.disabledReason ?? 'by an operator'}`);
      return { outcome: undefined };
    }
    // A delivery the guard holds back (breaker open, rate limit, concurrency cap) spends nothing: no
    // attempt row, no attempt number, no job attempt.
    const send = (attemptSignal: AbortSignal) =>
      // Neither path throws: every failure becomes an AttemptResult.
      destination.kind === 'handler'
        ? this.runHandler(destination, event, delivery, attemptSignal)
        : destination.format === 'email'
          ? this.sendMail(destination, event, attemptSignal)
          : this.sendHttp(destination, event, attemptSignal);
    const guarded = await this.guard.run(destination, signal, (attemptSignal) =>
      event.traceParent
        ? this.tracedAttempt(delivery, event, destination.id, () => send(attemptSignal))
        : send(attemptSignal),
    );
    if ('deferred' in guarded) {
      const { retryAt, reason } = guarded.deferred;
      return { outcome: { retryAt, error: reason, deferred: true } };
    }
    const result = guarded.sent;
    if (signal.aborted && result.errorCode === ErrorCode.ABORTED) {
      // Shutting down mid-attempt: not the receiver's fault, try again without counting it.
      return { outcome: { retryAt: clock.now(), error: 'interrupted by shutdown', deferred: true } };
    }
    const metrics = this.metricsFor(destination.id);
    metrics?.[result.outcome].inc();
    metrics?.duration.observe(result.durationMs / 1000);
    return { delivery, destination, result, operational: event.source === OPERATIONAL_SOURCE };
  }

  private metricsFor(destinationId: string): DestinationMetrics | undefined {
    if (!this.attemptsTotal || !this.attemptDuration) return undefined;
    let metrics = this.metrics.get(destinationId);
    if (!metrics) {
      metrics = {
        succeeded: this.attemptsTotal.labels(destinationId, 'succeeded'),
        failed: this.attemptsTotal.labels(destinationId, 'failed'),
        duration: this.attemptDuration.labels(destinationId),
      };
      this.metrics.set(destinationId, metrics);
    }
    return metrics;
  }

  /** One attempt as a span of the event's trace (stored with it): attempts days later join it too. */
  private tracedAttempt(
    delivery: Delivery,
    event: StoredEvent,
    destinationId: string,
    send: () => Promise<AttemptResult>,
  ): Promise<AttemptResult> {
    const attributes = {
      'patchbay.delivery_id': delivery.id,
      'patchbay.destination': destinationId,
      'patchbay.event_id': event.id,
      'patchbay.attempt': delivery.attempts + 1,
    };
    return inSpan(
      `deliver ${destinationId}`,
      contextOf(event.traceParent),
      attributes,
      async (span) => {
        const result = await send();
        span.setAttribute('patchbay.outcome', result.outcome);
        if (result.statusCode !== null) span.setAttribute('http.response.status_code', result.statusCode);
        if (result.outcome === 'failed')
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.errorMessage ?? 'failed' });
        return result;
      },
      SpanKind.PRODUCER,
    );
  }

  private async sendHttp(
    destination: HttpDestination,
    event: StoredEvent,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    const now = this.options.clock.now();
    const body = destination.format === 'slack' ? slackMessage(event) : envelope(event);
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
        // The attempt's span, when traced: the receiver continues the event's trace.
        ...(event.traceParent && traceHeaders()),
      },
      body,
      timeoutMs: destination.timeoutMs,
      signal,
    });
  }

  private async sendMail(
    destination: HttpDestination,
    event: StoredEvent,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    const { mailer } = this.options;
    if (!mailer || !destination.email)
      return {
        outcome: 'failed',
        statusCode: null,
        responseHeaders: null,
        responseBody: null,
        errorCode: ErrorCode.CONFIG_INVALID,
        errorMessage: 'this worker sends no e-mail',
        durationMs: 0,
        overloaded: false,
        gone: false,
      };
    return mailer.send({
      url: destination.url,
      email: destination.email,
      message: mailMessage(event),
      // One id per event and destination: a retry of a message that did arrive is the same message.
      messageId: `<${event.id}.${destination.id}@patchbay>`,
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
    // One controller and one timer per attempt: `AbortSignal.timeout` + `AbortSignal.any` cost a tenth of a
    // handler delivery's CPU time (and garbage: `any` keeps weak references to its sources).
    const { controller, unlink } = linkedController(signal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(
        new PatchbayError(ErrorCode.TIMEOUT, `handler timed out after ${destination.timeoutMs} ms`),
      );
    }, destination.timeoutMs);
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
      overloaded: isOverloadSignal({ statusCode: null, errorCode }),
      gone: false,
    });
    const attemptSignal = controller.signal;
    try {
      const context = { deliveryId: delivery.id, attempt: delivery.attempts + 1, signal: attemptSignal };
      const delivered = toDeliveredEvent(event);
      await Promise.race([
        measureSync(
          () => destination.handler(delivered, context),
          (ms) => {
            if (ms > LOOP_BLOCK_MS) this.options.onLoopBlock?.(`handler:${destination.id}`, ms);
          },
        ),
        // A handler that ignores its signal still ends the attempt on time.
        new Promise<never>((_, reject) =>
          attemptSignal.addEventListener('abort', () => reject(attemptSignal.reason), { once: true }),
        ),
      ]);
      return result('succeeded', null, null);
    } catch (err) {
      if (timedOut)
        return result(
          'failed',
          ErrorCode.TIMEOUT,
          `handler did not finish within ${destination.timeoutMs} ms`,
        );
      if (signal.aborted) return result('failed', ErrorCode.ABORTED, 'aborted (shutting down)');
      return result('failed', ErrorCode.HANDLER_ERROR, truncateBody(errorMessage(err), 2000));
    } finally {
      clearTimeout(timer);
      unlink();
    }
  }

  /**
   * Writes the attempts and the deliveries' next states of every attempt that finished together, in one
   * transaction (group commit), as the rules (`decideAttempt`) decide them. Each destination's run of
   * failures is read once and written once per batch; attempts of one destination see each other's
   * effect on it in order.
   */
  private async recordBatch(tx: Tx, items: readonly RecordInput[]): Promise<RecordOutput[]> {
    const { deliveries, clock } = this.options;
    const now = clock.now();
    await deliveries.addAttempts(
      tx,
      items.map(({ delivery, destination, result }) => ({
        id: newId('att', now),
        deliveryId: delivery.id,
        attempt: delivery.attempts + 1,
        trigger: delivery.manual ? ('manual' as const) : ('scheduled' as const),
        url: destination.kind === 'http' ? redactUrlForLog(destination.url) : `handler:${destination.id}`,
        startedAt: now - result.durationMs,
        durationMs: Math.round(result.durationMs),
        statusCode: result.statusCode,
        responseHeaders: result.responseHeaders ?? null,
        responseBody: result.responseBody,
        errorCode: result.errorCode,
        errorMessage: result.errorMessage,
        outcome: result.outcome,
      })),
    );
    const runs = await deliveries.failureRuns(tx, [...new Set(items.map((i) => i.destination.id))]);
    const changed = new Map<string, DestinationRun>();
    const decisions = items.map(({ delivery, destination, result, operational }) => {
      const run = runs.get(destination.id) ?? HEALTHY_RUN;
      const decision = decideAttempt(
        { delivery, destinationId: destination.id, result, operational },
        run,
        now,
        this.rules,
      );
      if (decision.destination) {
        runs.set(destination.id, decision.destination);
        changed.set(destination.id, decision.destination);
      }
      return decision;
    });
    await deliveries.recordAttempts(
      tx,
      decisions.map((d) => d.delivery),
    );
    await deliveries.saveFailureRuns(tx, changed, now);
    return decisions;
  }

  private async deadLetter(delivery: Delivery, reason: string): Promise<void> {
    const { database, deliveries, clock, logger } = this.options;
    logger.warn(
      {
        deliveryId: delivery.id,
        destination: delivery.destinationId,
        status: null,
        errorCode: null,
        reason,
      },
      'delivery dead-lettered without an attempt',
    );
    await database.transaction((tx) =>
      deliveries.update(tx, delivery.id, {
        status: 'failed',
        nextAttemptAt: null,
        lastError: reason,
        updatedAt: clock.now(),
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

/**
 * The body sent to HTTP destinations: `{ id, source, type, timestamp, data }`. A JSON event is spliced in
 * as stored — it was parsed when it was ingested or published — instead of being parsed and re-serialised
 * on every attempt.
 */
export function envelope(event: StoredEvent): Buffer {
  const head = JSON.stringify({
    id: event.id,
    source: event.source,
    type: event.type,
    timestamp: new Date(event.receivedAt).toISOString(),
  });
  const isJson = /json/i.test(event.contentType ?? 'application/json');
  const data = isJson ? event.body : Buffer.from(JSON.stringify(decodePayload(event)));
  return Buffer.concat([Buffer.from(`${head.slice(0, -1)},"data":`), data, Buffer.from('}')]);
}

/** A Slack incoming webhook's body: the payload's `text` (health events carry one), else the event's name. */
export function slackMessage(event: StoredEvent): Buffer {
  const payload = decodePayload(event) as { text?: unknown } | null;
  const text = typeof payload?.text === 'string' ? payload.text : `${event.source}.${event.type} ${event.id}`;
  return Buffer.from(JSON.stringify({ text }));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
