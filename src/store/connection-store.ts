import type { Database, Tx } from './database.js';
import type { ConnectionStatus, ConnectionsTable, OauthStatesTable } from './schema.js';

export type ConnectionRow = ConnectionsTable;
export type OauthStateRow = OauthStatesTable;

/** The columns a credential change writes together; `credential_version` is bumped by the store. */
export interface CredentialWrite {
  credentials: string | null;
  expires_at: number | null;
  status: ConnectionStatus;
  status_reason: string | null;
  refreshed_at: number | null;
  updated_at: number;
  /** Also replace the scheme's secrets and settings (a PATCH of the auth). */
  secrets?: string | null;
  auth_scheme?: string;
  auth_config?: string;
}

/**
 * Connections, pending OAuth states, as rows of ciphertext and JSON. Plain persistence: the vault
 * encrypts, decides when to refresh, and owns the rules; this class owns the SQL, in particular the
 * two conditional updates the refresh protocol rests on (lock on a version, compare-and-swap of the
 * version). Every statement is one atomic UPDATE, so it holds across processes on SQLite and PostgreSQL.
 */
export class ConnectionStore {
  constructor(private readonly database: Database) {}

  async insert(row: ConnectionRow, tx: Tx = this.database.autocommit): Promise<boolean> {
    const result = await tx.db
      .insertInto('connections')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async get(id: string, tx: Tx = this.database.autocommit): Promise<ConnectionRow | undefined> {
    const row = await tx.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
    return row && normalize(row);
  }

  /**
   * What changes whenever a connection does (its definition, secrets, credentials or status), read
   * without the secrets: a process holding a copy compares it to learn of another process's change.
   * Undefined when the connection is gone.
   */
  async stamp(id: string): Promise<string | undefined> {
    const row = await this.database.db
      .selectFrom('connections')
      .select(['updated_at', 'credential_version', 'status'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row && connectionStamp(Number(row.updated_at), Number(row.credential_version), row.status);
  }

  /** Connections in id order, after `after`, at most `limit` (fetch `limit + 1` to know if more follow). */
  async list(options: {
    after?: string;
    limit: number;
    status?: ConnectionStatus;
  }): Promise<ConnectionRow[]> {
    let query = this.database.db.selectFrom('connections').selectAll().orderBy('id').limit(options.limit);
    if (options.after !== undefined) query = query.where('id', '>', options.after);
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    return (await query.execute()).map(normalize);
  }

  /** Non-secret fields (base URL, metadata, provider); credentials are written with `writeCredentials`. */
  async updateFields(
    id: string,
    fields: Partial<Pick<ConnectionRow, 'base_url' | 'metadata' | 'provider' | 'origin'>> & {
      updated_at: number;
    },
    tx: Tx = this.database.autocommit,
  ): Promise<boolean> {
    const result = await tx.db.updateTable('connections').set(fields).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(id: string, tx: Tx = this.database.autocommit): Promise<boolean> {
    await tx.db.deleteFrom('oauth_states').where('connection_id', '=', id).execute();
    const result = await tx.db.deleteFrom('connections').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /**
   * Takes the refresh lock for credential version `version`: succeeds only if the version is still
   * current and nobody holds an unexpired lock. Exactly one caller wins per version, across processes.
   */
  async tryLock(id: string, version: number, owner: string, now: number, until: number): Promise<boolean> {
    const result = await this.database.db
      .updateTable('connections')
      .set({ refresh_lock: owner, refresh_lock_until: until })
      .where('id', '=', id)
      .where('credential_version', '=', version)
      .where((eb) => eb.or([eb('refresh_lock_until', 'is', null), eb('refresh_lock_until', '<=', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives the lock back without changing the credentials (the refresh failed). */
  async unlock(id: string, owner: string): Promise<void> {
    await this.database.db
      .updateTable('connections')
      .set({ refresh_lock: null, refresh_lock_until: null })
      .where('id', '=', id)
      .where('refresh_lock', '=', owner)
      .execute();
  }

  /**
   * Compare-and-swap: writes new credentials and bumps the version only if it is still `expected`,
   * releasing any refresh lock. Returns the new version, or undefined when another writer got there first.
   */
  async writeCredentials(
    id: string,
    expected: number,
    write: CredentialWrite,
    tx: Tx = this.database.autocommit,
  ): Promise<number | undefined> {
    const result = await tx.db
      .updateTable('connections')
      .set({
        ...write,
        credential_version: expected + 1,
        refresh_lock: null,
        refresh_lock_until: null,
      })
      .where('id', '=', id)
      .where('credential_version', '=', expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? expected + 1 : undefined;
  }

  /** Changes the status only while the credentials are still at `expected` (a newer refresh wins). */
  async setStatus(
    id: string,
    expected: number,
    status: ConnectionStatus,
    reason: string | null,
    now: number,
  ): Promise<boolean> {
    const result = await this.database.db
      .updateTable('connections')
      .set({ status, status_reason: reason, updated_at: now, refresh_lock: null, refresh_lock_until: null })
      .where('id', '=', id)
      .where('credential_version', '=', expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async insertState(row: OauthStateRow): Promise<void> {
    await this.database.db.insertInto('oauth_states').values(row).execute();
  }

  /** Reads and deletes a state in one step, so a `state` can be redeemed once only. */
  async takeState(id: string): Promise<OauthStateRow | undefined> {
    return this.database.transaction(async (tx) => {
      const row = await tx.db.selectFrom('oauth_states').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const deleted = await tx.db.deleteFrom('oauth_states').where('id', '=', id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1) return undefined;
      return { ...row, created_at: Number(row.created_at), expires_at: Number(row.expires_at) };
    });
  }

  async pruneStates(now: number): Promise<number> {
    const result = await this.database.db
      .deleteFrom('oauth_states')
      .where('expires_at', '<', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** SQLite hands back integers as numbers already; PostgreSQL's are parsed by the pool. Keep both exact. */
function normalize(row: ConnectionRow): ConnectionRow {
  return {
    ...row,
    credential_version: Number(row.credential_version),
    expires_at: row.expires_at === null ? null : Number(row.expires_at),
    refresh_lock_until: row.refresh_lock_until === null ? null : Number(row.refresh_lock_until),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
    refreshed_at: row.refreshed_at === null ? null : Number(row.refreshed_at),
  };
}

/** The version stamp of a connection as `stamp` reads it, from a copy's fields. */
export function connectionStamp(updatedAt: number, credentialVersion: number, status: string): string {
  return `${updatedAt}:${credentialVersion}:${status}`;
}
