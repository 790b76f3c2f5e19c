import type { Database, Tx } from '../database.js';
import type { SyncConflictsTable } from '../schema.js';

/** A conflict waiting for a person (policy `manual`): both versions and what they changed from. */
export interface SyncConflict {
  id: string;
  syncId: string;
  externalId: string;
  changeId: string;
  /** JSON; null for a delete on that side. */
  localData: string | null;
  sourceData: string | null;
  baseData: string | null;
  sourceHash: string | null;
  status: 'open' | 'resolved';
  resolution: 'local' | 'source' | 'merged' | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewConflict {
  id: string;
  externalId: string;
  changeId: string;
  localData: string | null;
  sourceData: string | null;
  baseData: string | null;
  sourceHash: string | null;
}

export class SyncConflictStore {
  constructor(private readonly database: Database) {}

  async add(tx: Tx, syncId: string, conflict: NewConflict, now: number): Promise<void> {
    await tx.db
      .insertInto('sync_conflicts')
      .values({
        id: conflict.id,
        sync_id: syncId,
        external_id: conflict.externalId,
        change_id: conflict.changeId,
        local_data: conflict.localData,
        source_data: conflict.sourceData,
        base_data: conflict.baseData,
        source_hash: conflict.sourceHash,
        status: 'open',
        resolution: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  /** The open conflicts of these records (a newer source version updates them, not a second one). */
  async openFor(
    tx: Tx | undefined,
    syncId: string,
    ids: readonly string[],
  ): Promise<Map<string, SyncConflict>> {
    const out = new Map<string, SyncConflict>();
    if (ids.length === 0) return out;
    const rows = await (tx?.db ?? this.database.db)
      .selectFrom('sync_conflicts')
      .selectAll()
      .where('sync_id', '=', syncId)
      .where('status', '=', 'open')
      .where('external_id', 'in', ids)
      .execute();
    for (const r of rows) out.set(r.external_id, fromRow(r));
    return out;
  }

  async updateSource(
    tx: Tx,
    id: string,
    sourceData: string | null,
    sourceHash: string | null,
    now: number,
  ): Promise<void> {
    await tx.db
      .updateTable('sync_conflicts')
      .set({ source_data: sourceData, source_hash: sourceHash, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  async resolve(
    tx: Tx,
    id: string,
    resolution: 'local' | 'source' | 'merged',
    now: number,
  ): Promise<boolean> {
    const result = await tx.db
      .updateTable('sync_conflicts')
      .set({ status: 'resolved', resolution, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async get(syncId: string, id: string): Promise<SyncConflict | undefined> {
    const row = await this.database.db
      .selectFrom('sync_conflicts')
      .selectAll()
      .where('sync_id', '=', syncId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async list(
    syncId: string,
    options: { status?: 'open' | 'resolved'; after?: string; limit: number },
  ): Promise<SyncConflict[]> {
    let q = this.database.db.selectFrom('sync_conflicts').selectAll().where('sync_id', '=', syncId);
    if (options.status !== undefined) q = q.where('status', '=', options.status);
    if (options.after !== undefined) q = q.where('id', '>', options.after);
    const rows = await q
      .orderBy('id')
      .limit(options.limit + 1)
      .execute();
    return rows.map(fromRow);
  }

  async countOpen(syncId: string): Promise<number> {
    const row = await this.database.db
      .selectFrom('sync_conflicts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sync_id', '=', syncId)
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function fromRow(r: SyncConflictsTable): SyncConflict {
  return {
    id: r.id,
    syncId: r.sync_id,
    externalId: r.external_id,
    changeId: r.change_id,
    localData: r.local_data,
    sourceData: r.source_data,
    baseData: r.base_data,
    sourceHash: r.source_hash,
    status: r.status as 'open' | 'resolved',
    resolution: r.resolution as SyncConflict['resolution'],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
