import { sql } from 'kysely';
import { idFloor } from '../core/ids.js';
import type { Database, Tx } from './database.js';
import type { EventsTable } from './schema.js';
import { type WindowPage, type WindowQuery, windowPage, windowRange } from './search-window.js';

/** An event about to be stored. */
export interface NewEvent {
  id: string;
  source: string;
  externalId: string;
  type: string;
  headers: Record<string, string>;
  body: Buffer;
  contentType: string | null;
  requestId: string | null;
  verification: string;
  receivedAt: number;
  occurredAt: number | null;
  /** W3C traceparent of the span that stored it: its deliveries join that trace. */
  traceParent?: string | null;
}

export interface StoredEvent extends NewEvent {
  duplicates: number;
  lastDuplicateAt: number | null;
}

/** What happened to one submitted event: stored now, or a repeat of the stored event `id`. */
export interface InsertOutcome {
  id: string;
  duplicate: boolean;
}

export interface PruneScope {
  source?: string;
  exceptSources?: readonly string[];
}

export interface EventQuery {
  source?: string;
  type?: string;
  /** Events received at or after this time (ms). */
  since?: number;
  /** Events with ids after this one (the page cursor). */
  after?: string;
  limit: number;
}

/** The dashboard's event search: newest first, within a bounded window (search-window.ts). */
export interface EventBrowseQuery extends WindowQuery {
  source?: string;
  /** A type, or a prefix ending in `*` (`contact.*`). */
  type?: string;
  /** Bytes the body contains (case-sensitive). */
  text?: string;
}

const ROWS_PER_STATEMENT = 500;

/**
 * The event log. Events are immutable once stored; a repeat of `(source, externalId)` only bumps the
 * stored event's duplicate count. Uniqueness is a database constraint, so dedupe holds across processes.
 */
export class EventStore {
  constructor(private readonly database: Database) {}

  /**
   * Stores events inside `tx`, skipping repeats. Returns, in input order, each event's stored id (the
   * original's for a repeat) and whether it was a repeat. A repeat within the same call counts too.
   */
  async insertMany(tx: Tx, events: readonly NewEvent[]): Promise<InsertOutcome[]> {
    const insertedIds = new Set<string>();
    // Inserted in key order: concurrent transactions (group commit on PostgreSQL) then take the unique
    // index's locks in the same order and cannot deadlock on each other.
    const ordered = [...events].sort(byKey);
    for (let i = 0; i < ordered.length; i += ROWS_PER_STATEMENT) {
      const rows = await tx.db
        .insertInto('events')
        .values(ordered.slice(i, i + ROWS_PER_STATEMENT).map(toRow))
        .onConflict((oc) => oc.columns(['source', 'external_id']).doNothing())
        .returning('id')
        .execute();
      for (const row of rows) insertedIds.add(row.id);
    }
    const repeats = events.filter((e) => !insertedIds.has(e.id));
    const original = new Map<string, string>();
    if (repeats.length > 0) {
      const now = Math.max(...repeats.map((e) => e.receivedAt));
      const bySource = new Map<string, NewEvent[]>();
      for (const e of repeats) bySource.set(e.source, [...(bySource.get(e.source) ?? []), e]);
      for (const [source, group] of bySource) {
        // One increment per repeated submission, even when the same key repeats within this call.
        const counts = new Map<string, number>();
        for (const e of group) counts.set(e.externalId, (counts.get(e.externalId) ?? 0) + 1);
        for (const [externalId, count] of counts) {
          const row = await tx.db
            .updateTable('events')
            .set((eb) => ({ duplicates: eb('duplicates', '+', count), last_duplicate_at: now }))
            .where('source', '=', source)
            .where('external_id', '=', externalId)
            .returning('id')
            .executeTakeFirst();
          if (row) original.set(`${source}\u0000${externalId}`, row.id);
        }
      }
    }
    return events.map((e) =>
      insertedIds.has(e.id)
        ? { id: e.id, duplicate: false }
        : { id: original.get(`${e.source}\u0000${e.externalId}`) ?? e.id, duplicate: true },
    );
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const row = await this.database.db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async findByExternalId(source: string, externalId: string): Promise<StoredEvent | undefined> {
    const row = await this.database.db
      .selectFrom('events')
      .selectAll()
      .where('source', '=', source)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /** Events in id (= arrival) order, newest last; `limit + 1` rows so the caller can tell if more exist. */
  async list(query: EventQuery): Promise<StoredEvent[]> {
    let q = this.database.db.selectFrom('events').selectAll();
    if (query.source !== undefined) q = q.where('source', '=', query.source);
    if (query.type !== undefined) {
      // `contact.*` is a prefix match; substr compares exactly in both dialects (LIKE and collations differ).
      const prefix = query.type.slice(0, -1);
      q = query.type.endsWith('*')
        ? q.where(sql<boolean>`substr(type, 1, ${prefix.length}) = ${prefix}`)
        : q.where('type', '=', query.type);
    }
    if (query.since !== undefined) q = q.where('received_at', '>=', query.since);
    if (query.after !== undefined) q = q.where('id', '>', query.after);
    const rows = await q
      .orderBy('id')
      .limit(query.limit + 1)
      .execute();
    return rows.map(fromRow);
  }

  /** Events newest first, filtered, reading at most `query.window` events for the page. */
  async browse(query: EventBrowseQuery): Promise<WindowPage<StoredEvent>> {
    const db = this.database.db;
    const range = await windowRange(query, async (upper, lower, offset) => {
      let q = db.selectFrom('events').select('id');
      if (upper !== undefined) q = q.where('id', '<', upper);
      if (lower !== undefined) q = q.where('id', '>=', lower);
      const row = await q.orderBy('id', 'desc').limit(1).offset(offset).executeTakeFirst();
      return row?.id;
    });
    let q = db.selectFrom('events').selectAll();
    if (range.upper !== undefined) q = q.where('id', '<', range.upper);
    if (range.lower !== undefined) q = q.where('id', '>=', range.lower);
    if (query.since !== undefined) q = q.where('received_at', '>=', query.since);
    if (query.until !== undefined) q = q.where('received_at', '<', query.until);
    if (query.source !== undefined) q = q.where('source', '=', query.source);
    if (query.type !== undefined) {
      const prefix = query.type.slice(0, -1);
      q = query.type.endsWith('*')
        ? q.where(sql<boolean>`substr(type, 1, ${prefix.length}) = ${prefix}`)
        : q.where('type', '=', query.type);
    }
    if (query.text !== undefined && query.text !== '') {
      const needle = Buffer.from(query.text, 'utf8');
      q = q.where(
        this.database.dialect === 'postgres'
          ? sql<boolean>`position(${needle} in body) > 0`
          : sql<boolean>`instr(body, ${needle}) > 0`,
      );
    }
    const rows = await q
      .orderBy('id', 'desc')
      .limit(query.limit + 1)
      .execute();
    return windowPage(rows.map(fromRow), query.limit, range);
  }

  /** Events received per `bucketMs` from `from` to `to` (ids give the times: no other index is read). */
  async countsByTime(from: number, to: number, bucketMs: number): Promise<number[]> {
    const counts: number[] = [];
    for (let start = from; start < to; start += bucketMs) {
      const row = await this.database.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('id', '>=', idFloor('evt', start))
        .where('id', '<', idFloor('evt', Math.min(start + bucketMs, to)))
        .executeTakeFirst();
      counts.push(Number(row?.n ?? 0));
    }
    return counts;
  }

  /**
   * Deletes events received before `before`, at most `limit` at a time, of one source or of every source
   * but some (sources with a retention of their own). Returns how many went.
   */
  async prune(before: number, scope: PruneScope = {}, limit = 1000): Promise<number> {
    let q = this.database.db.selectFrom('events').select('id').where('received_at', '<', before);
    if (scope.source !== undefined) q = q.where('source', '=', scope.source);
    if (scope.exceptSources?.length) q = q.where('source', 'not in', scope.exceptSources);
    const ids = await q.orderBy('received_at').limit(limit).execute();
    if (ids.length === 0) return 0;
    const eventIds = ids.map((r) => r.id);
    // An event goes with its deliveries and their attempts: nothing may point at a pruned event.
    const result = await this.database.transaction(async (tx) => {
      const deliveries = tx.db.selectFrom('deliveries').select('id').where('event_id', 'in', eventIds);
      await tx.db.deleteFrom('delivery_attempts').where('delivery_id', 'in', deliveries).execute();
      await tx.db.deleteFrom('deliveries').where('event_id', 'in', eventIds).execute();
      return tx.db.deleteFrom('events').where('id', 'in', eventIds).executeTakeFirst();
    });
    return Number(result.numDeletedRows);
  }
}

function byKey(a: NewEvent, b: NewEvent): number {
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  return a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0;
}

function toRow(e: NewEvent): EventsTable {
  return {
    id: e.id,
    source: e.source,
    external_id: e.externalId,
    type: e.type,
    headers: JSON.stringify(e.headers),
    body: e.body,
    content_type: e.contentType,
    request_id: e.requestId,
    verification: e.verification,
    received_at: e.receivedAt,
    occurred_at: e.occurredAt,
    duplicates: 0,
    last_duplicate_at: null,
    trace_parent: e.traceParent ?? null,
  };
}

function fromRow(row: EventsTable): StoredEvent {
  return {
    id: row.id,
    source: row.source,
    externalId: row.external_id,
    type: row.type,
    headers: JSON.parse(row.headers) as Record<string, string>,
    body: Buffer.from(row.body),
    contentType: row.content_type,
    requestId: row.request_id,
    verification: row.verification,
    receivedAt: Number(row.received_at),
    occurredAt: row.occurred_at === null ? null : Number(row.occurred_at),
    duplicates: Number(row.duplicates),
    lastDuplicateAt: row.last_duplicate_at === null ? null : Number(row.last_duplicate_at),
    traceParent: row.trace_parent,
  };
}
