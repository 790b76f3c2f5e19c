import type { Database, Tx } from '../database.js';
import type { SyncRecordsTable } from '../schema.js';

/** A record ready to store: canonical JSON and its hash (made by the sync engine). */
export interface IncomingRecord {
  id: string;
  data: string;
  hash: string;
  modifiedAt: number | null;
}

export interface StoredRecord {
  id: string;
  /** Canonical JSON. */
  data: string;
  hash: string;
  revision: number;
  modifiedAt: number | null;
  firstSeenAt: number;
  lastSeenAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

/** A change the store made: the material of one change event. */
export interface RecordChange {
  id: string;
  kind: 'created' | 'updated' | 'deleted';
  revision: number;
  /** The new hash (for a delete, the hash of the record deleted). */
  hash: string;
  previousHash: string | null;
  /** The record now (JSON); for a delete, the record as it was. */
  data: string;
  /** The record before an update (JSON). */
  previousData: string | null;
  /** When the record's row was first stored: with the revision, names this change uniquely. */
  firstSeenAt: number;
}

/** Stamps of one write: `stamp` becomes `updated_at` of what changed; `now` is the wall time. */
export interface WriteStamp {
  stamp: number;
  now: number;
  generation: number;
}

export interface RecordQuery {
  /** Records whose `updatedAt` is after this (ms). */
  modifiedAfter?: number;
  /** Keyset position: the last (updatedAt, id) of the previous page. */
  after?: { updatedAt: number; id: string };
  includeDeleted?: boolean;
  limit: number;
}

const CHUNK = 500;

/**
 * How stale `last_seen_at` of an unchanged record may get within a generation. An incremental pass
 * over unchanged records then writes nothing per record (the "quiet page"); a full read always marks
 * what it saw, as its sweep needs.
 */
export const LAST_SEEN_GRANULARITY_MS = 60 * 60 * 1000;

interface Existing {
  external_id: string;
  first_seen_at: number;
  hash: string;
  revision: number;
  deleted_at: number | null;
  seen_generation: number;
  last_seen_at: number;
}

/**
 * The records of every sync, keyed by (sync, external id). A record's `updated_at` moves only when its
 * hash does (or it is deleted or returns), so a reread page changes nothing and makes no event; every
 * write names the sync's generation, so a complete full read can tell what it did not see.
 */
export class SyncRecordStore {
  constructor(private readonly database: Database) {}

  /** Stores a page's records (already deduplicated by id) inside `tx`; returns what changed. */
  async apply(
    tx: Tx,
    syncId: string,
    records: readonly IncomingRecord[],
    at: WriteStamp,
  ): Promise<RecordChange[]> {
    if (records.length === 0) return [];
    const existing = await this.existing(
      tx,
      syncId,
      records.map((r) => r.id),
    );
    const changes: RecordChange[] = [];
    const writes: SyncRecordsTable[] = [];
    const seen: string[] = [];
    const updated: IncomingRecord[] = [];
    for (const record of records) {
      const old = existing.get(record.id);
      if (old && old.deleted_at === null && old.hash === record.hash) {
        const stale =
          Number(old.seen_generation) < at.generation ||
          at.now - Number(old.last_seen_at) >= LAST_SEEN_GRANULARITY_MS;
        if (stale) seen.push(record.id);
        continue;
      }
      const revision = (old?.revision ?? 0) + 1;
      writes.push(row(syncId, record, revision, at));
      if (old && old.deleted_at === null) updated.push(record);
      else
        changes.push({
          id: record.id,
          kind: 'created',
          revision,
          hash: record.hash,
          previousHash: old?.hash ?? null,
          data: record.data,
          previousData: null,
          firstSeenAt: old ? Number(old.first_seen_at) : at.now,
        });
    }
    if (updated.length > 0) {
      const before = await this.dataOf(
        tx,
        syncId,
        updated.map((r) => r.id),
      );
      for (const record of updated) {
        const old = existing.get(record.id)!;
        changes.push({
          id: record.id,
          kind: 'updated',
          revision: old.revision + 1,
          hash: record.hash,
          previousHash: old.hash,
          data: record.data,
          previousData: before.get(record.id) ?? null,
          firstSeenAt: Number(old.first_seen_at),
        });
      }
    }
    for (let i = 0; i < writes.length; i += CHUNK) {
      await tx.db
        .insertInto('sync_records')
        .values(writes.slice(i, i + CHUNK))
        .onConflict((oc) =>
          oc.columns(['sync_id', 'external_id']).doUpdateSet((eb) => ({
            data: eb.ref('excluded.data'),
            hash: eb.ref('excluded.hash'),
            revision: eb.ref('excluded.revision'),
            modified_at: eb.ref('excluded.modified_at'),
            last_seen_at: eb.ref('excluded.last_seen_at'),
            updated_at: eb.ref('excluded.updated_at'),
            deleted_at: null,
            seen_generation: eb.ref('excluded.seen_generation'),
          })),
        )
        .execute();
    }
    await this.touch(tx, syncId, seen, at);
    return changes;
  }

  /**
   * Marks records as seen in this generation without changing them: unchanged ones, and ones whose new
   * version was quarantined (seen at the source, so a full read must not delete them).
   */
  async touch(tx: Tx, syncId: string, ids: readonly string[], at: WriteStamp): Promise<void> {
    for (let i = 0; i < ids.length; i += CHUNK) {
      await tx.db
        .updateTable('sync_records')
        .set({ last_seen_at: at.now, seen_generation: at.generation })
        .where('sync_id', '=', syncId)
        .where('external_id', 'in', ids.slice(i, i + CHUNK))
        .execute();
    }
  }

  /** Deletes records the source reported deleted (tombstones); unknown or already deleted ids change nothing. */
  async tombstone(tx: Tx, syncId: string, ids: readonly string[], at: WriteStamp): Promise<RecordChange[]> {
    const changes: RecordChange[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await tx.db
        .updateTable('sync_records')
        .set((eb) => ({
          deleted_at: at.now,
          updated_at: at.stamp,
          revision: eb('revision', '+', 1),
          seen_generation: at.generation,
        }))
        .where('sync_id', '=', syncId)
        .where('external_id', 'in', ids.slice(i, i + CHUNK))
        .where('deleted_at', 'is', null)
        .returning(['external_id', 'hash', 'revision', 'data', 'first_seen_at'])
        .execute();
      for (const r of rows) changes.push(deletion(r));
    }
    return changes;
  }

  /** Live records not seen since `generation` began: what a complete full read of it would delete. */
  async countUnseen(syncId: string, generation: number, tx?: Tx): Promise<number> {
    const row = await (tx?.db ?? this.database.db)
      .selectFrom('sync_records')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sync_id', '=', syncId)
      .where('deleted_at', 'is', null)
      .where('seen_generation', '<', generation)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Deletes up to `limit` live records not seen since `generation` began (a sweep's batch). */
  async sweep(
    tx: Tx,
    syncId: string,
    generation: number,
    at: WriteStamp,
    limit: number,
  ): Promise<RecordChange[]> {
    const ids = await tx.db
      .selectFrom('sync_records')
      .select('external_id')
      .where('sync_id', '=', syncId)
      .where('deleted_at', 'is', null)
      .where('seen_generation', '<', generation)
      .orderBy('external_id')
      .limit(limit)
      .execute();
    if (ids.length === 0) return [];
    return this.tombstone(
      tx,
      syncId,
      ids.map((r) => r.external_id),
      at,
    );
  }

  async count(syncId: string, options: { includeDeleted?: boolean } = {}, tx?: Tx): Promise<number> {
    let q = (tx?.db ?? this.database.db)
      .selectFrom('sync_records')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sync_id', '=', syncId);
    if (!options.includeDeleted) q = q.where('deleted_at', 'is', null);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async get(syncId: string, id: string, tx?: Tx): Promise<StoredRecord | undefined> {
    return (await this.getMany(syncId, [id], tx)).get(id);
  }

  async getMany(syncId: string, ids: readonly string[], tx?: Tx): Promise<Map<string, StoredRecord>> {
    const out = new Map<string, StoredRecord>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await (tx?.db ?? this.database.db)
        .selectFrom('sync_records')
        .selectAll()
        .where('sync_id', '=', syncId)
        .where('external_id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) out.set(r.external_id, fromRow(r));
    }
    return out;
  }

  /** Records in (updatedAt, id) order, `limit + 1` of them so the caller can tell whether more exist. */
  async list(syncId: string, query: RecordQuery): Promise<StoredRecord[]> {
    let q = this.database.db.selectFrom('sync_records').selectAll().where('sync_id', '=', syncId);
    if (!query.includeDeleted) q = q.where('deleted_at', 'is', null);
    if (query.modifiedAfter !== undefined) q = q.where('updated_at', '>', query.modifiedAfter);
    const after = query.after;
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('updated_at', '>', after.updatedAt),
          eb.and([eb('updated_at', '=', after.updatedAt), eb('external_id', '>', after.id)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('updated_at')
      .orderBy('external_id')
      .limit(query.limit + 1)
      .execute();
    return rows.map(fromRow);
  }

  /** Every live record's id and hash, in id order, a page at a time (for `verify`). */
  async hashes(
    syncId: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<{ id: string; hash: string }[]> {
    let q = this.database.db
      .selectFrom('sync_records')
      .select(['external_id', 'hash'])
      .where('sync_id', '=', syncId)
      .where('deleted_at', 'is', null);
    if (afterId !== undefined) q = q.where('external_id', '>', afterId);
    const rows = await q.orderBy('external_id').limit(limit).execute();
    return rows.map((r) => ({ id: r.external_id, hash: r.hash }));
  }

  private async existing(tx: Tx, syncId: string, ids: readonly string[]): Promise<Map<string, Existing>> {
    const out = new Map<string, Existing>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await tx.db
        .selectFrom('sync_records')
        .select([
          'external_id',
          'first_seen_at',
          'hash',
          'revision',
          'deleted_at',
          'seen_generation',
          'last_seen_at',
        ])
        .where('sync_id', '=', syncId)
        .where('external_id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) out.set(r.external_id, r);
    }
    return out;
  }

  private async dataOf(tx: Tx, syncId: string, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await tx.db
        .selectFrom('sync_records')
        .select(['external_id', 'data'])
        .where('sync_id', '=', syncId)
        .where('external_id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) out.set(r.external_id, r.data);
    }
    return out;
  }
}

function row(syncId: string, record: IncomingRecord, revision: number, at: WriteStamp): SyncRecordsTable {
  return {
    sync_id: syncId,
    external_id: record.id,
    data: record.data,
    hash: record.hash,
    revision,
    modified_at: record.modifiedAt,
    first_seen_at: at.now,
    last_seen_at: at.now,
    updated_at: at.stamp,
    deleted_at: null,
    seen_generation: at.generation,
  };
}

function deletion(r: {
  external_id: string;
  hash: string;
  revision: number;
  data: string;
  first_seen_at: number;
}): RecordChange {
  return {
    id: r.external_id,
    kind: 'deleted',
    revision: Number(r.revision),
    hash: r.hash,
    previousHash: r.hash,
    data: r.data,
    previousData: null,
    firstSeenAt: Number(r.first_seen_at),
  };
}

function fromRow(r: SyncRecordsTable): StoredRecord {
  return {
    id: r.external_id,
    data: r.data,
    hash: r.hash,
    revision: Number(r.revision),
    modifiedAt: r.modified_at === null ? null : Number(r.modified_at),
    firstSeenAt: Number(r.first_seen_at),
    lastSeenAt: Number(r.last_seen_at),
    updatedAt: Number(r.updated_at),
    deletedAt: r.deleted_at === null ? null : Number(r.deleted_at),
  };
}
