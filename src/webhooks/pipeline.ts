import { trace } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import { type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { PublishInput } from '../core/publisher.js';
import { traceParentOf, tracingOn } from '../core/tracing.js';
import type { Database, Tx } from '../store/database.js';
import { EventStore, type InsertOutcome, type NewEvent, type PruneScope } from '../store/event-store.js';
import { GroupCommitter } from '../store/group-commit.js';

/** Called inside the transaction that stores new events (never for repeats): creates their deliveries. */
export type RouteHook = (tx: Tx, events: readonly NewEvent[]) => Promise<void>;

export interface PipelineOptions {
  database: Database;
  clock?: Clock;
  registry?: Registry;
  /** Events (and their dedupe keys) older than this are pruned. Defaults to 7 days. */
  retentionMs?: number;
  /** Sources keeping their events for a time of their own (read at each pruning). */
  retentionBySource?: () => ReadonlyMap<string, number>;
  /** Creates the deliveries of new events in the transaction that stores them. Defaults to none (stored only). */
  route?: RouteHook;
}

export interface PublishRequest extends PublishInput {
  /** Namespace of the event for routing (`<source>.<type>`). Defaults to `api`. */
  source?: string;
}

export interface PublishResult {
  id: string;
  /** True when `idempotencyKey` matched an event already published: the original is returned. */
  duplicate: boolean;
}

const TYPE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;
const SOURCE = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;

/**
 * The front of the event log: every event — ingested webhook, published through the API or by a sync —
 * enters here. Events are written with group commit and deduplicated by `(source, externalId)`; new ones
 * are routed in the same transaction, so an event is never stored without its deliveries or vice versa.
 */
export class EventPipeline {
  readonly store: EventStore;
  private readonly clock: Clock;
  private readonly committer: GroupCommitter<NewEvent[], InsertOutcome[]>;
  private readonly route: RouteHook | undefined;
  private readonly retentionMs: number;
  private readonly retentionBySource: () => ReadonlyMap<string, number>;
  private readonly eventsTotal?: Counter<'source' | 'outcome'>;
  private readonly batchSize?: Histogram;

  constructor(options: PipelineOptions) {
    this.clock = options.clock ?? systemClock;
    this.store = new EventStore(options.database);
    this.retentionMs = options.retentionMs ?? 7 * 86_400_000;
    this.retentionBySource = options.retentionBySource ?? (() => new Map());
    this.route = options.route;
    this.committer = new GroupCommitter(options.database, (tx, items) => this.write(tx, items));
    if (options.registry) {
      this.eventsTotal = new Counter({
        name: 'patchbay_events_total',
        help: 'Events offered to the event log, by source and outcome (stored, duplicate).',
        labelNames: ['source', 'outcome'],
        registers: [options.registry],
      });
      this.batchSize = new Histogram({
        name: 'patchbay_event_commit_batch_size',
        help: 'Requests written per transaction by group commit.',
        buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        registers: [options.registry],
      });
    }
  }

  /**
   * Stores the events of one request durably and returns once they are committed: the caller may then
   * acknowledge. Repeats are reported, not stored again.
   */
  async ingest(events: NewEvent[]): Promise<InsertOutcome[]> {
    if (events.length === 0) return [];
    return this.committer.submit(events);
  }

  /**
   * Stores events inside the caller's transaction and routes them in it (a sync's page: its records,
   * checkpoint and change events commit together or not at all). Repeats of `(source, externalId)` are
   * skipped, as in `ingest`. The caller's transaction is the commit: no group commit here.
   */
  async appendInTransaction(tx: Tx, events: readonly NewEvent[]): Promise<InsertOutcome[]> {
    if (events.length === 0) return [];
    return this.storeAndRoute(tx, events);
  }

  /** `POST /api/v1/events` and `engine.publish(...)`: an event of our own making. */
  async publish(input: PublishRequest): Promise<PublishResult> {
    const source = input.source ?? 'api';
    if (!SOURCE.test(source))
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `source must be an id like "api", got ${JSON.stringify(source)}`,
      );
    if (typeof input.type !== 'string' || !TYPE.test(input.type)) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `type must be 1–200 letters, digits or "_.:-", starting with a letter or digit, got ${JSON.stringify(input.type)}`,
      );
    }
    if (
      input.idempotencyKey !== undefined &&
      (input.idempotencyKey.length === 0 || input.idempotencyKey.length > 200)
    ) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'idempotencyKey must be 1–200 characters');
    }
    const now = this.clock.now();
    const id = newId('evt', now);
    const body = Buffer.from(JSON.stringify(input.payload ?? null));
    const [outcome] = await this.ingest([
      {
        id,
        source,
        externalId: input.idempotencyKey ?? id,
        type: input.type,
        headers: {},
        body,
        contentType: 'application/json',
        requestId: null,
        verification: 'api',
        receivedAt: now,
        occurredAt: now,
        traceParent: tracingOn() ? traceParentOf(trace.getActiveSpan()) : null,
      },
    ]);
    return outcome!;
  }

  /** Deletes events past their retention window (their dedupe keys go with them). */
  async prune(): Promise<number> {
    const now = this.clock.now();
    const bySource = this.retentionBySource();
    let total = await this.pruneAll(now - this.retentionMs, { exceptSources: [...bySource.keys()] });
    for (const [source, retention] of bySource) {
      total += await this.pruneAll(now - retention, { source });
    }
    return total;
  }

  private async pruneAll(before: number, scope: PruneScope): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.store.prune(before, scope);
      total += n;
      if (n === 0) return total;
    }
  }

  private async storeAndRoute(tx: Tx, all: readonly NewEvent[]): Promise<InsertOutcome[]> {
    const outcomes = await this.store.insertMany(tx, all);
    const fresh = all.filter((_, i) => !outcomes[i]!.duplicate);
    if (fresh.length > 0 && this.route) await this.route(tx, fresh);
    if (this.eventsTotal) {
      for (const [i, e] of all.entries()) {
        this.eventsTotal.inc({ source: e.source, outcome: outcomes[i]!.duplicate ? 'duplicate' : 'stored' });
      }
    }
    return outcomes;
  }

  private async write(tx: Tx, items: NewEvent[][]): Promise<InsertOutcome[][]> {
    const outcomes = await this.storeAndRoute(tx, items.flat());
    this.batchSize?.observe(items.length);
    const out: InsertOutcome[][] = [];
    let offset = 0;
    for (const item of items) {
      out.push(outcomes.slice(offset, offset + item.length));
      offset += item.length;
    }
    return out;
  }
}
