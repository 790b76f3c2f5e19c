import { CompiledQuery, type RawBuilder, sql } from 'kysely';
import { idFloor } from '../core/ids.js';
import type { Database, Tx } from './database.js';
import type { StoredEvent } from './event-store.js';
import type {
  DeliveriesTable,
  DeliveryAttemptsTable,
  DeliveryStatus,
  DestinationStatus,
  DestinationsTable,
} from './schema.js';
import { type WindowPage, type WindowQuery, windowPage, windowRange } from './search-window.js';
import { statementText, tuples } from './statement-text.js';

/**
 * A delivery: one event for one destination. Domain objects of this store are camelCase, flags are
 * booleans and times are epoch milliseconds (numbers, as on `StoredEvent`); the rows' snake_case and
 * 0/1 columns stay inside this file.
 */
export interface Delivery {
  id: string;
  eventId: string;
  destinationId: string;
  status: DeliveryStatus;
  /** Attempts over the delivery's life (numbering of the attempts log). */
  attempts: number;
  /** Attempts since the schedule last (re)started: a replay restarts the schedule. */
  cycleAttempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  /** `delivery.failing` was published for the current cycle. */
  failingNotified: boolean;
  /** The next attempt was asked for by hand (its attempt is logged with trigger `manual`). */
  manual: boolean;
  createdAt: number;
  updatedAt: number;
  succeededAt: number | null;
}

/** One attempt of a delivery, as logged. */
export interface DeliveryAttempt {
  id: string;
  deliveryId: string;
  attempt: number;
  trigger: DeliveryAttemptsTable['trigger'];
  url: string;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  responseHeaders: Record<string, string> | null;
  /** Cut at 20,000 bytes. */
  responseBody: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  outcome: DeliveryAttemptsTable['outcome'];
}

/** A destination's stored row: its runtime state, and for API destinations its definition. */
export interface DestinationState {
  id: string;
  /** JSON definition for destinations made through the API, without secrets; null for config ones. */
  definition: string | null;
  /** API destinations: vault ciphertext of `{ secrets, headers }`. */
  secrets: string | null;
  origin: DestinationsTable['origin'];
  status: DestinationStatus;
  disabledReason: string | null;
  disabledAt: number | null;
  /** Start of the current run of failures; cleared by any success. */
  failingSince: number | null;
  /** The operator was told of the current failure run (so its end is announced as recovered). */
  failureAlerted: boolean;
  createdAt: number;
  updatedAt: number;
}

/** What an operator (or the rules) may change of a destination's state. */
export type DestinationStateChanges = Partial<
  Pick<
    DestinationState,
    'status' | 'disabledReason' | 'disabledAt' | 'failingSince' | 'failureAlerted' | 'updatedAt'
  >
>;

export interface AttemptContext {
  delivery: Delivery;
  event: StoredEvent;
  /** The destination's row as stored now; undefined when it no longer exists. */
  destination:
    | {
        status: DestinationStatus;
        origin: DestinationState['origin'];
        disabledReason: string | null;
        /** Changes whenever the row does (its `updated_at`): a cached definition older than this is stale. */
        version: number;
      }
    | undefined;
}

/** A destination's run of failures, as the delivery rules read and write it. */
export interface DestinationRun {
  /** Start of the current run of failures, or null when the last attempt succeeded. */
  failingSince: number | null;
  /** The operator was told of this run (delivery.failing / exhausted), so its end is announced. */
  alerted: boolean;
  status: DestinationStatus;
  /** Why it was disabled, when the rules disabled it. */
  disabledReason?: string;
}

/**
 * A delivery's next state after an attempt, as `recordAttempts` writes it. `status`, `succeededAt` and
 * `failingNotified` keep the stored value when null; every other field is set as given (null included).
 */
export interface AttemptUpdate {
  id: string;
  status: DeliveryStatus | null;
  attempts: number;
  cycleAttempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  failingNotified: boolean | null;
  manual: boolean;
  updatedAt: number;
  succeededAt: number | null;
}

export interface DeliveryQuery {
  destinationId?: string;
  eventId?: string;
  status?: DeliveryStatus;
  /** Created at or after (ms). */
  since?: number;
  after?: string;
  limit: number;
}

/** The dashboard's delivery search: newest first, within a bounded window (search-window.ts). */
export interface DeliveryBrowseQuery extends WindowQuery {
  destinationId?: string;
  status?: DeliveryStatus;
  /** The last attempt's HTTP status within this range (`{ min: 500, max: 599 }` for 5xx). */
  httpStatus?: { min: number; max: number };
}

/** Attempts per time bucket, by outcome. */
export interface AttemptCounts {
  succeeded: number;
  failed: number;
}

/**
 * Deliveries, their attempts log, and destinations' runtime state (enabled, disabled, failing since).
 * Plain persistence: the rules of when to retry, disable or alert live in the delivery worker.
 */
export class DeliveryStore {
  constructor(private readonly database: Database) {}

  async insertMany(tx: Tx, rows: readonly Delivery[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      await tx.db
        .insertInto('deliveries')
        .values(rows.slice(i, i + 500).map(deliveryRow))
        .onConflict((oc) => oc.columns(['event_id', 'destination_id']).doNothing())
        .execute();
    }
  }

  /**
   * Everything one attempt needs in one query: the delivery, its event, and its destination's state
   * (absent when the destination has no state row).
   */
  async loadForAttempt(ids: readonly string[]): Promise<Map<string, AttemptContext>> {
    const out = new Map<string, AttemptContext>();
    if (ids.length === 0) return out;
    const text = statementText('load-for-attempt', this.database.dialect, ids.length, (mark) => {
      const marks = Array.from({ length: ids.length }, (_, i) => mark(i + 1)).join(', ');
      return `select d.*, e.source as e_source, e.external_id as e_external_id, e.type as e_type,
          e.headers as e_headers, e.body as e_body, e.content_type as e_content_type,
          e.request_id as e_request_id, e.verification as e_verification, e.received_at as e_received_at,
          e.occurred_at as e_occurred_at, e.duplicates as e_duplicates,
          e.last_duplicate_at as e_last_duplicate_at, e.trace_parent as e_trace_parent, s.status as s_status, s.origin as s_origin,
          s.disabled_reason as s_disabled_reason, s.updated_at as s_updated_at
        from deliveries as d
        inner join events as e on e.id = d.event_id
        left join destinations as s on s.id = d.destination_id
        where d.id in (${marks})`;
    });
    const { rows } = await this.database.db.executeQuery<AttemptRow>(CompiledQuery.raw(text, [...ids]));
    for (const row of rows) out.set(row.id, toAttemptContext(row));
    return out;
  }

  async get(id: string, tx?: Tx): Promise<Delivery | undefined> {
    const row = await (tx?.db ?? this.database.db)
      .selectFrom('deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toDelivery(row);
  }

  async list(query: DeliveryQuery): Promise<Delivery[]> {
    let q = this.database.db.selectFrom('deliveries').selectAll();
    if (query.destinationId !== undefined) q = q.where('destination_id', '=', query.destinationId);
    if (query.eventId !== undefined) q = q.where('event_id', '=', query.eventId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.since !== undefined) q = q.where('created_at', '>=', query.since);
    if (query.after !== undefined) q = q.where('id', '>', query.after);
    const rows = await q
      .orderBy('id')
      .limit(query.limit + 1)
      .execute();
    return rows.map(toDelivery);
  }

  /** Deliveries newest first, filtered, reading at most `query.window` deliveries for the page. */
  async browse(query: DeliveryBrowseQuery): Promise<WindowPage<Delivery>> {
    const db = this.database.db;
    const range = await windowRange(query, async (upper, lower, offset) => {
      let q = db.selectFrom('deliveries').select('id');
      if (upper !== undefined) q = q.where('id', '<', upper);
      if (lower !== undefined) q = q.where('id', '>=', lower);
      const row = await q.orderBy('id', 'desc').limit(1).offset(offset).executeTakeFirst();
      return row?.id;
    });
    let q = db.selectFrom('deliveries').selectAll();
    if (range.upper !== undefined) q = q.where('id', '<', range.upper);
    if (range.lower !== undefined) q = q.where('id', '>=', range.lower);
    if (query.since !== undefined) q = q.where('created_at', '>=', query.since);
    if (query.until !== undefined) q = q.where('created_at', '<', query.until);
    if (query.destinationId !== undefined) q = q.where('destination_id', '=', query.destinationId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.httpStatus !== undefined) {
      q = q.where('last_status', '>=', query.httpStatus.min).where('last_status', '<=', query.httpStatus.max);
    }
    const rows = await q
      .orderBy('id', 'desc')
      .limit(query.limit + 1)
      .execute();
    return windowPage(rows.map(toDelivery), query.limit, range);
  }

  /**
   * Attempts made per `bucketMs` from `from` to `to`, by outcome (attempt ids give the times). Each bucket
   * is one pass over `delivery_attempts_time_outcome` (id, outcome): no row is read, nothing is grouped.
   */
  async attemptCountsByTime(from: number, to: number, bucketMs: number): Promise<AttemptCounts[]> {
    const out: AttemptCounts[] = [];
    for (let start = from; start < to; start += bucketMs) {
      const row = await this.database.db
        .selectFrom('delivery_attempts')
        .select((eb) => [
          eb.fn.countAll<number | string>().as('n'),
          eb.fn
            .sum<number | string | null>(eb.case().when('outcome', '=', 'failed').then(1).else(0).end())
            .as('failed'),
        ])
        .where('id', '>=', idFloor('att', start))
        .where('id', '<', idFloor('att', Math.min(start + bucketMs, to)))
        .executeTakeFirst();
      const failed = Number(row?.failed ?? 0);
      out.push({ succeeded: Number(row?.n ?? 0) - failed, failed });
    }
    return out;
  }

  async attempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    const rows = await this.database.db
      .selectFrom('delivery_attempts')
      .selectAll()
      .where('delivery_id', '=', deliveryId)
      .orderBy('attempt')
      .execute();
    return rows.map(toAttempt);
  }

  async update(tx: Tx, id: string, changes: Partial<Omit<Delivery, 'id'>>): Promise<void> {
    await tx.db.updateTable('deliveries').set(deliveryColumns(changes)).where('id', '=', id).execute();
  }

  /**
   * Writes the next states of a batch of attempted deliveries in one statement (UPDATE … FROM VALUES,
   * SQLite ≥ 3.33 and PostgreSQL) instead of one UPDATE per delivery: per-statement cost dominated the
   * group commit. A batch naming a delivery twice is written row by row, in order, so the last one wins
   * as it would with separate updates.
   */
  async recordAttempts(tx: Tx, rows: readonly AttemptUpdate[]): Promise<void> {
    if (rows.length === 0) return;
    if (new Set(rows.map((r) => r.id)).size !== rows.length) {
      for (const { id, status, succeededAt, failingNotified, ...changes } of rows) {
        await this.update(tx, id, {
          ...changes,
          ...(status !== null && { status }),
          ...(succeededAt !== null && { succeededAt }),
          ...(failingNotified !== null && { failingNotified }),
        });
      }
      return;
    }
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const params: unknown[] = [];
      for (const r of chunk) {
        params.push(
          r.id,
          r.status,
          r.attempts,
          r.cycleAttempts,
          r.nextAttemptAt,
          r.lastStatus,
          r.lastError,
          r.failingNotified === null ? null : flag(r.failingNotified),
          flag(r.manual),
          r.updatedAt,
          r.succeededAt,
        );
      }
      const text = statementText('record-attempts', tx.dialect, chunk.length, (mark) => {
        // Parameters of VALUES have no type on PostgreSQL (they resolve to text): cast them to the columns'.
        const pg = tx.dialect === 'postgres';
        const int = (column: string) => (pg ? `cast(v.${column} as integer)` : `v.${column}`);
        const big = (column: string) => (pg ? `cast(v.${column} as bigint)` : `v.${column}`);
        return `update deliveries set
          status = coalesce(v.column2, deliveries.status),
          attempts = ${int('column3')},
          cycle_attempts = ${int('column4')},
          next_attempt_at = ${big('column5')},
          last_status = ${int('column6')},
          last_error = v.column7,
          failing_notified = coalesce(${int('column8')}, deliveries.failing_notified),
          manual = ${int('column9')},
          updated_at = ${big('column10')},
          succeeded_at = coalesce(${big('column11')}, deliveries.succeeded_at)
          from (values ${tuples(mark, chunk.length, 11)}) as v
          where deliveries.id = v.column1`;
      });
      await tx.db.executeQuery(CompiledQuery.raw(text, params));
    }
  }

  /**
   * Appends attempts to the log. Every attempt of the delivery worker passes here, so the statement is
   * written out once per (dialect, row count) instead of being built by the query builder each time,
   * which cost more than the insert itself.
   */
  async addAttempts(tx: Tx, attempts: readonly DeliveryAttempt[]): Promise<void> {
    for (let i = 0; i < attempts.length; i += 500) {
      const chunk = attempts.slice(i, i + 500);
      const params: unknown[] = [];
      for (const a of chunk) {
        params.push(
          a.id,
          a.deliveryId,
          a.attempt,
          a.trigger,
          a.url,
          a.startedAt,
          a.durationMs,
          a.statusCode,
          a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders),
          a.responseBody,
          a.errorCode,
          a.errorMessage,
          a.outcome,
        );
      }
      const text = statementText('insert-attempts', tx.dialect, chunk.length, (mark) => {
        const columns =
          'id, delivery_id, attempt, trigger, url, started_at, duration_ms, status_code, response_headers, response_body, error_code, error_message, outcome';
        return `insert into delivery_attempts (${columns}) values ${tuples(mark, chunk.length, 13)}`;
      });
      await tx.db.executeQuery(CompiledQuery.raw(text, params));
    }
  }

  /** Ids of a destination's deliveries in `status` created since `since`, oldest first, at most `limit`. */
  async idsFor(
    destinationId: string,
    status: DeliveryStatus,
    since: number,
    limit: number,
  ): Promise<string[]> {
    const rows = await this.database.db
      .selectFrom('deliveries')
      .select('id')
      .where('destination_id', '=', destinationId)
      .where('status', '=', status)
      .where('created_at', '>=', since)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** The oldest pending delivery of a destination (ordered mode processes them one by one). */
  async oldestPending(destinationId: string): Promise<Delivery | undefined> {
    const row = await this.database.db
      .selectFrom('deliveries')
      .selectAll()
      .where('destination_id', '=', destinationId)
      .where('status', '=', 'pending')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row && toDelivery(row);
  }

  /** Ids of a destination's pending deliveries, oldest first. */
  async pendingIds(destinationId: string): Promise<string[]> {
    const rows = await this.database.db
      .selectFrom('deliveries')
      .select('id')
      .where('destination_id', '=', destinationId)
      .where('status', '=', 'pending')
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Deliveries by id (those that exist), in no particular order. */
  async getMany(ids: readonly string[]): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.database.db
        .selectFrom('deliveries')
        .selectAll()
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const row of rows) out.push(toDelivery(row));
    }
    return out;
  }

  /**
   * Puts deliveries back in line for a manual attempt now: pending, a fresh retry cycle, the next
   * attempt logged as `manual`.
   */
  async markReplayed(tx: Tx, ids: readonly string[], now: number): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      await tx.db
        .updateTable('deliveries')
        .set({
          status: 'pending',
          cycle_attempts: 0,
          failing_notified: 0,
          manual: 1,
          next_attempt_at: now,
          updated_at: now,
        })
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
    }
  }

  // --- destinations' runtime state ---

  async destination(id: string, tx?: Tx): Promise<DestinationState | undefined> {
    const row = await (tx?.db ?? this.database.db)
      .selectFrom('destinations')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toDestinationState(row);
  }

  async destinations(tx?: Tx): Promise<DestinationState[]> {
    const rows = await (tx?.db ?? this.database.db)
      .selectFrom('destinations')
      .selectAll()
      .orderBy('id')
      .execute();
    return rows.map(toDestinationState);
  }

  /**
   * A value that changes whenever any destination's row is made, changed or deleted (row count and the
   * sum of `updated_at`, which every write moves forward): what a process's copy of the rows is checked
   * against (decision 0052).
   */
  async destinationsVersion(tx?: Tx): Promise<string> {
    const { rows } = await (tx?.db ?? this.database.db).executeQuery<{
      n: number | string;
      s: number | string | null;
    }>(DESTINATIONS_VERSION);
    return `${rows[0]?.n ?? 0}:${rows[0]?.s ?? 0}`;
  }

  /** Creates the state row of a destination if it has none (status enabled, or as given). */
  async ensureDestination(
    id: string,
    origin: DestinationState['origin'],
    now: number,
    status: DestinationStatus = 'enabled',
    definition: string | null = null,
  ): Promise<void> {
    await this.database.db
      .insertInto('destinations')
      .values({
        id,
        origin,
        definition,
        status,
        disabled_reason: status === 'disabled' ? 'disabled in configuration' : null,
        disabled_at: status === 'disabled' ? now : null,
        failing_since: null,
        failure_alerted: 0,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** Stores a destination made through the admin API; false when the id is taken. */
  async insertApiDestination(id: string, definition: string, secrets: string, now: number): Promise<boolean> {
    const result = await this.database.db
      .insertInto('destinations')
      .values({
        id,
        origin: 'api',
        definition,
        secrets,
        status: 'enabled',
        disabled_reason: null,
        disabled_at: null,
        failing_since: null,
        failure_alerted: 0,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async updateApiDestination(id: string, definition: string, secrets: string, now: number): Promise<boolean> {
    const result = await this.database.db
      .updateTable('destinations')
      .set({ definition, secrets, updated_at: movedOn(now) })
      .where('id', '=', id)
      .where('origin', '=', 'api')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Removes an API destination's row; its deliveries stay (and fail as "destination gone" if pending). */
  async deleteApiDestination(id: string): Promise<boolean> {
    const result = await this.database.db
      .deleteFrom('destinations')
      .where('id', '=', id)
      .where('origin', '=', 'api')
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Destinations' runs of failures, read once per batch of attempt records. */
  async failureRuns(tx: Tx, ids: readonly string[]): Promise<Map<string, DestinationRun>> {
    const clocks = new Map<string, DestinationRun>();
    if (ids.length === 0) return clocks;
    const rows = await tx.db
      .selectFrom('destinations')
      .select(['id', 'failing_since', 'failure_alerted', 'status', 'disabled_reason'])
      .where('id', 'in', [...ids])
      .execute();
    for (const row of rows) {
      clocks.set(row.id, {
        failingSince: row.failing_since === null ? null : Number(row.failing_since),
        alerted: Number(row.failure_alerted) === 1,
        status: row.status,
      });
    }
    return clocks;
  }

  /** Writes the runs a batch changed (a status the rules disabled included). */
  async saveFailureRuns(tx: Tx, runs: ReadonlyMap<string, DestinationRun>, now: number): Promise<void> {
    for (const [id, clock] of runs) {
      await tx.db
        .updateTable('destinations')
        .set({
          failing_since: clock.failingSince,
          failure_alerted: clock.alerted ? 1 : 0,
          updated_at: movedOn(now),
          ...(clock.status === 'disabled' &&
            clock.disabledReason !== undefined && {
              status: 'disabled' as const,
              disabled_reason: clock.disabledReason,
              disabled_at: now,
            }),
        })
        .where('id', '=', id)
        .execute();
    }
  }

  async updateDestination(id: string, changes: DestinationStateChanges, tx?: Tx): Promise<number> {
    const { disabledReason, disabledAt, failingSince, failureAlerted, updatedAt, status } = changes;
    const result = await (tx?.db ?? this.database.db)
      .updateTable('destinations')
      .set({
        ...(status !== undefined && { status }),
        ...(disabledReason !== undefined && { disabled_reason: disabledReason }),
        ...(disabledAt !== undefined && { disabled_at: disabledAt }),
        ...(failingSince !== undefined && { failing_since: failingSince }),
        ...(failureAlerted !== undefined && { failure_alerted: flag(failureAlerted) }),
        ...(updatedAt !== undefined && { updated_at: movedOn(updatedAt) }),
      })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

/** Read once a second by each process that routes: a constant text, not rebuilt by the builder each time. */
const DESTINATIONS_VERSION = CompiledQuery.raw(
  'select count(*) as n, sum(updated_at) as s from destinations',
);

/**
 * A destination row's new `updated_at`: `now`, or one past the stored value when that is not older (two
 * writes in one millisecond, or a clock set back), so every write moves the version's sum.
 */
function movedOn(now: number): RawBuilder<number> {
  return sql<number>`case when updated_at >= ${now} then updated_at + 1 else ${now} end`;
}

type AttemptRow = DeliveriesTable & {
  e_source: string;
  e_external_id: string;
  e_type: string;
  e_headers: string;
  e_body: Buffer;
  e_content_type: string | null;
  e_request_id: string | null;
  e_verification: string;
  e_received_at: number;
  e_occurred_at: number | null;
  e_duplicates: number;
  e_last_duplicate_at: number | null;
  e_trace_parent: string | null;
  s_status: DestinationStatus | null;
  s_origin: DestinationState['origin'] | null;
  s_disabled_reason: string | null;
  s_updated_at: number | null;
};

// Fields are copied one by one: an object rest (`{ e_source, …, ...delivery }`) was a tenth of the
// delivery worker's own CPU time.
function toAttemptContext(row: AttemptRow): AttemptContext {
  return {
    delivery: toDelivery(row),
    event: {
      id: row.event_id,
      source: row.e_source,
      externalId: row.e_external_id,
      type: row.e_type,
      headers: JSON.parse(row.e_headers) as Record<string, string>,
      body: Buffer.from(row.e_body),
      contentType: row.e_content_type,
      requestId: row.e_request_id,
      verification: row.e_verification,
      receivedAt: Number(row.e_received_at),
      occurredAt: row.e_occurred_at === null ? null : Number(row.e_occurred_at),
      duplicates: Number(row.e_duplicates),
      lastDuplicateAt: row.e_last_duplicate_at === null ? null : Number(row.e_last_duplicate_at),
      traceParent: row.e_trace_parent,
    },
    destination:
      row.s_status === null
        ? undefined
        : {
            status: row.s_status,
            origin: row.s_origin!,
            disabledReason: row.s_disabled_reason,
            version: Number(row.s_updated_at),
          },
  };
}

const flag = (value: boolean): number => (value ? 1 : 0);

// Fields are copied one by one (no spread or rest): this runs for every attempt.
function toDelivery(row: DeliveriesTable): Delivery {
  return {
    id: row.id,
    eventId: row.event_id,
    destinationId: row.destination_id,
    status: row.status,
    attempts: row.attempts,
    cycleAttempts: row.cycle_attempts,
    nextAttemptAt: row.next_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    failingNotified: row.failing_notified === 1,
    manual: row.manual === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    succeededAt: row.succeeded_at,
  };
}

/** The row of a whole delivery: every field's column, as a partial delivery's (below). */
function deliveryRow({ id, ...fields }: Delivery): DeliveriesTable {
  return { id, ...deliveryColumns(fields) } as DeliveriesTable;
}

/** The columns of a partial delivery (only the fields it sets). */
function deliveryColumns(changes: Partial<Omit<Delivery, 'id'>>): Partial<DeliveriesTable> {
  const columns: Partial<DeliveriesTable> = {};
  for (const [field, value] of Object.entries(changes) as [keyof typeof changes, unknown][]) {
    if (value === undefined) continue;
    (columns as Record<string, unknown>)[DELIVERY_COLUMNS[field]] =
      typeof value === 'boolean' ? flag(value) : value;
  }
  return columns;
}

const DELIVERY_COLUMNS = {
  eventId: 'event_id',
  destinationId: 'destination_id',
  status: 'status',
  attempts: 'attempts',
  cycleAttempts: 'cycle_attempts',
  nextAttemptAt: 'next_attempt_at',
  lastStatus: 'last_status',
  lastError: 'last_error',
  failingNotified: 'failing_notified',
  manual: 'manual',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  succeededAt: 'succeeded_at',
} as const satisfies Record<keyof Omit<Delivery, 'id'>, keyof DeliveriesTable>;

function toAttempt(row: DeliveryAttemptsTable): DeliveryAttempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    trigger: row.trigger,
    url: row.url,
    startedAt: row.started_at,
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    responseHeaders:
      row.response_headers === null ? null : (JSON.parse(row.response_headers) as Record<string, string>),
    responseBody: row.response_body,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    outcome: row.outcome,
  };
}

function toDestinationState(row: DestinationsTable): DestinationState {
  return {
    id: row.id,
    definition: row.definition,
    secrets: row.secrets,
    origin: row.origin,
    status: row.status,
    disabledReason: row.disabled_reason,
    disabledAt: row.disabled_at,
    failingSince: row.failing_since,
    failureAlerted: row.failure_alerted === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
