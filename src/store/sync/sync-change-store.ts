import type { Database, Tx } from '../database.js';
import type { SyncChangeStatus, SyncChangesTable } from '../schema.js';

/** A local change waiting for (or done with) its push. */
export interface SyncChange {
  id: string;
  syncId: string;
  externalId: string;
  /** The wanted record (JSON); null to delete it at the source. */
  data: string | null;
  /** The stored record the change was made from (JSON), and its hash; null for a new record. */
  baseData: string | null;
  baseHash: string | null;
  idempotencyKey: string;
  status: SyncChangeStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: number | null;
  writtenAt: number;
  updatedAt: number;
}

export interface NewChange {
  id: string;
  externalId: string;
  data: string | null;
  baseData: string | null;
  baseHash: string | null;
  idempotencyKey: string;
}

const CHUNK = 500;

/**
 * The outbox of local writes. At most one change per record is `pending`: a newer write replaces it
 * (the older is `superseded`, its base carried over, so a conflict is still judged against what the
 * local side started from). Idempotency keys are unique per sync: a repeated request writes nothing.
 */
export class SyncChangeStore {
  constructor(private readonly database: Database) {}

  /** Adds changes in `tx`; returns the ids of those whose key was new (repeats are skipped). */
  async add(tx: Tx, syncId: string, changes: readonly NewChange[], now: number): Promise<Set<string>> {
    const added = new Set<string>();
    if (changes.length === 0) return added;
    const keys = await tx.db
      .selectFrom('sync_changes')
      .select('idempotency_key')
      .where('sync_id', '=', syncId)
      .where(
        'idempotency_key',
        'in',
        changes.map((c) => c.idempotencyKey),
      )
      .execute();
    const known = new Set(keys.map((k) => k.idempotency_key));
    const fresh = changes.filter((c) => !known.has(c.idempotencyKey));
    if (fresh.length === 0) return added;
    const pending = await this.pendingFor(
      tx,
      syncId,
      fresh.map((c) => c.externalId),
    );
    const rows: SyncChangesTable[] = [];
    for (const change of fresh) {
      const older = pending.get(change.externalId);
      rows.push({
        id: change.id,
        sync_id: syncId,
        external_id: change.externalId,
        data: change.data,
        base_data: older ? older.baseData : change.baseData,
        base_hash: older ? older.baseHash : change.baseHash,
        idempotency_key: change.idempotencyKey,
        status: 'pending',
        attempts: 0,
        last_error: null,
        next_attempt_at: now,
        written_at: now,
        updated_at: now,
      });
      added.add(change.id);
    }
    const superseded = [...pending.values()].map((c) => c.id);
    for (let i = 0; i < superseded.length; i += CHUNK) {
      await tx.db
        .updateTable('sync_changes')
        .set({ status: 'superseded', updated_at: now })
        .where('id', 'in', superseded.slice(i, i + CHUNK))
        .execute();
    }
    for (let i = 0; i < rows.length; i += CHUNK) {
      await tx.db
        .insertInto('sync_changes')
        .values(rows.slice(i, i + CHUNK))
        .execute();
    }
    return added;
  }

  /** The pending change of each of `ids` that has one. */
  async pendingFor(
    tx: Tx | undefined,
    syncId: string,
    ids: readonly string[],
  ): Promise<Map<string, SyncChange>> {
    const out = new Map<string, SyncChange>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await (tx?.db ?? this.database.db)
        .selectFrom('sync_changes')
        .selectAll()
        .where('sync_id', '=', syncId)
        .where('status', '=', 'pending')
        .where('external_id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) out.set(r.external_id, fromRow(r));
    }
    return out;
  }

  /** Whether the sync has any pending change (the fetch path skips conflict checks without one). */
  async hasPending(syncId: string): Promise<boolean> {
    const row = await this.database.db
      .selectFrom('sync_changes')
      .select('id')
      .where('sync_id', '=', syncId)
      .where('status', '=', 'pending')
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Pending changes due at `now`, oldest first, after `afterId` (a push pass walks them once). */
  async due(syncId: string, now: number, limit: number, afterId?: string): Promise<SyncChange[]> {
    let q = this.database.db
      .selectFrom('sync_changes')
      .selectAll()
      .where('sync_id', '=', syncId)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now);
    if (afterId !== undefined) q = q.where('id', '>', afterId);
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map(fromRow);
  }

  async get(id: string, tx?: Tx): Promise<SyncChange | undefined> {
    const row = await (tx?.db ?? this.database.db)
      .selectFrom('sync_changes')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async list(
    syncId: string,
    options: { status?: SyncChangeStatus; after?: string; limit: number },
  ): Promise<SyncChange[]> {
    let q = this.database.db.selectFrom('sync_changes').selectAll().where('sync_id', '=', syncId);
    if (options.status !== undefined) q = q.where('status', '=', options.status);
    if (options.after !== undefined) q = q.where('id', '>', options.after);
    const rows = await q
      .orderBy('id')
      .limit(options.limit + 1)
      .execute();
    return rows.map(fromRow);
  }

  async setStatus(tx: Tx, ids: readonly string[], status: SyncChangeStatus, now: number): Promise<void> {
    for (let i = 0; i < ids.length; i += CHUNK) {
      await tx.db
        .updateTable('sync_changes')
        .set({ status, updated_at: now })
        .where('id', 'in', ids.slice(i, i + CHUNK))
        .execute();
    }
  }

  /** Rebases a pending change on the source's newer version (after a merge or a policy decision). */
  async rebase(
    tx: Tx,
    id: string,
    change: { data: string | null; baseData: string | null; baseHash: string | null },
    now: number,
  ): Promise<void> {
    await tx.db
      .updateTable('sync_changes')
      .set({ data: change.data, base_data: change.baseData, base_hash: change.baseHash, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  /** Records a failed push: retried at `nextAttemptAt`, or `failed` for good when null. */
  async failed(tx: Tx, id: string, error: string, nextAttemptAt: number | null, now: number): Promise<void> {
    await tx.db
      .updateTable('sync_changes')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        last_error: error.slice(0, 2000),
        next_attempt_at: nextAttemptAt,
        status: nextAttemptAt === null ? 'failed' : 'pending',
        updated_at: now,
      }))
      .where('id', '=', id)
      .execute();
  }

  async count(syncId: string, status: SyncChangeStatus): Promise<number> {
    const row = await this.database.db
      .selectFrom('sync_changes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sync_id', '=', syncId)
      .where('status', '=', status)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function fromRow(r: SyncChangesTable): SyncChange {
  return {
    id: r.id,
    syncId: r.sync_id,
    externalId: r.external_id,
    data: r.data,
    baseData: r.base_data,
    baseHash: r.base_hash,
    idempotencyKey: r.idempotency_key,
    status: r.status,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    nextAttemptAt: r.next_attempt_at === null ? null : Number(r.next_attempt_at),
    writtenAt: Number(r.written_at),
    updatedAt: Number(r.updated_at),
  };
}
