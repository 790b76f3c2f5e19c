import type { Database, Tx } from '../database.js';
import type { SyncQuarantineTable } from '../schema.js';

export type QuarantineStatus = 'open' | 'resolved' | 'discarded' | 'superseded';

/** A record the sync could not store: why, where, and what the provider sent. */
export interface QuarantinedRecord {
  id: string;
  syncId: string;
  externalId: string | null;
  runId: string | null;
  /** `transform`, `key`, or the field path the schema refused (`email`, `address.zip`). */
  errorPath: string;
  error: string;
  /** The provider's record (JSON). */
  raw: string;
  status: QuarantineStatus;
  retries: number;
  createdAt: number;
  updatedAt: number;
}

export interface NewQuarantined {
  id: string;
  externalId: string | null;
  errorPath: string;
  error: string;
  raw: string;
}

const CHUNK = 500;

/**
 * Records that failed transform or validation. One open entry per record: a newer failure of the same
 * record replaces the older (superseded), and storing a valid version of it supersedes what is open.
 */
export class SyncQuarantineStore {
  constructor(private readonly database: Database) {}

  async add(
    tx: Tx,
    syncId: string,
    runId: string | null,
    entries: readonly NewQuarantined[],
    now: number,
  ): Promise<void> {
    if (entries.length === 0) return;
    const ids = entries.map((e) => e.externalId).filter((id): id is string => id !== null);
    await this.supersede(tx, syncId, ids, now);
    for (let i = 0; i < entries.length; i += CHUNK) {
      await tx.db
        .insertInto('sync_quarantine')
        .values(
          entries.slice(i, i + CHUNK).map((e) => ({
            id: e.id,
            sync_id: syncId,
            external_id: e.externalId,
            run_id: runId,
            error_path: e.errorPath,
            error: e.error.slice(0, 2000),
            raw: e.raw,
            status: 'open',
            retries: 0,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
  }

  /** Open entries of these records are superseded (a newer version was stored or quarantined). */
  async supersede(tx: Tx, syncId: string, externalIds: readonly string[], now: number): Promise<void> {
    for (let i = 0; i < externalIds.length; i += CHUNK) {
      await tx.db
        .updateTable('sync_quarantine')
        .set({ status: 'superseded', updated_at: now })
        .where('sync_id', '=', syncId)
        .where('status', '=', 'open')
        .where('external_id', 'in', externalIds.slice(i, i + CHUNK))
        .execute();
    }
  }

  /** Whether the sync has open entries (the commit path skips `supersede` without any). */
  async hasOpen(syncId: string, tx?: Tx): Promise<boolean> {
    const row = await (tx?.db ?? this.database.db)
      .selectFrom('sync_quarantine')
      .select('id')
      .where('sync_id', '=', syncId)
      .where('status', '=', 'open')
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async get(syncId: string, id: string): Promise<QuarantinedRecord | undefined> {
    const row = await this.database.db
      .selectFrom('sync_quarantine')
      .selectAll()
      .where('sync_id', '=', syncId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async list(
    syncId: string,
    options: { status?: QuarantineStatus; after?: string; limit: number },
  ): Promise<QuarantinedRecord[]> {
    let q = this.database.db.selectFrom('sync_quarantine').selectAll().where('sync_id', '=', syncId);
    if (options.status !== undefined) q = q.where('status', '=', options.status);
    if (options.after !== undefined) q = q.where('id', '>', options.after);
    const rows = await q
      .orderBy('id')
      .limit(options.limit + 1)
      .execute();
    return rows.map(fromRow);
  }

  async setStatus(
    tx: Tx,
    ids: readonly string[],
    status: QuarantineStatus,
    now: number,
    retried = false,
  ): Promise<void> {
    for (let i = 0; i < ids.length; i += CHUNK) {
      await tx.db
        .updateTable('sync_quarantine')
        .set((eb) => ({ status, updated_at: now, ...(retried && { retries: eb('retries', '+', 1) }) }))
        .where('id', 'in', ids.slice(i, i + CHUNK))
        .execute();
    }
  }

  /** A retry that failed again: the entry stays open with the new error. */
  async retried(tx: Tx, id: string, errorPath: string, error: string, now: number): Promise<void> {
    await tx.db
      .updateTable('sync_quarantine')
      .set((eb) => ({
        error_path: errorPath,
        error: error.slice(0, 2000),
        retries: eb('retries', '+', 1),
        updated_at: now,
      }))
      .where('id', '=', id)
      .execute();
  }

  async countOpen(syncId: string): Promise<number> {
    const row = await this.database.db
      .selectFrom('sync_quarantine')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sync_id', '=', syncId)
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function fromRow(r: SyncQuarantineTable): QuarantinedRecord {
  return {
    id: r.id,
    syncId: r.sync_id,
    externalId: r.external_id,
    runId: r.run_id,
    errorPath: r.error_path,
    error: r.error,
    raw: r.raw,
    status: r.status as QuarantineStatus,
    retries: Number(r.retries),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
