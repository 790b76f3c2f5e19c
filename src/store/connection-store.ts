import type { Database, Tx } from './database.js';
import type { ConnectionStatus, ConnectionsTable, OauthStatesTable } from './schema.js';

/** A connection as stored: ciphertext for its secrets and tokens, parsed JSON, camelCase, times in epoch ms. */
export interface StoredConnection {
  id: string;
  /** `custom` or a known provider's name (`hubspot`, `msgraph`…). */
  provider: string;
  baseUrl: string | null;
  /** `bearer`, `api-key`, `basic`, `oauth2-client-credentials`, `oauth2-authorization-code`. */
  authScheme: string;
  /** The scheme's settings that are not secret (header name, token URL, client id, scopes…). */
  authConfig: Record<string, unknown>;
  /** Vault ciphertext of the scheme's secrets as JSON. */
  secrets: string | null;
  /** Vault ciphertext of the current token set as JSON. */
  credentials: string | null;
  /** When the current access token expires (ms), if it does. */
  expiresAt: number | null;
  /** Bumped by every change of `credentials` or `secrets`; refreshes compare-and-swap on it. */
  credentialVersion: number;
  /** Owner of the cross-process refresh lock, while one process refreshes. */
  refreshLock: string | null;
  refreshLockUntil: number | null;
  status: ConnectionStatus;
  statusReason: string | null;
  /** Free-form JSON the user attaches (never secret). */
  metadata: Record<string, unknown>;
  origin: 'config' | 'api';
  createdAt: number;
  updatedAt: number;
  refreshedAt: number | null;
}

/** A pending OAuth authorization (its `state`), redeemed once by the callback. */
export interface OauthState {
  /** SHA-256 (hex) of the `state` parameter. */
  id: string;
  connectionId: string;
  /** Vault ciphertext of `{ codeVerifier }`. */
  secrets: string;
  redirectUri: string;
  /** Where the callback sends the browser afterwards. */
  returnTo: string | null;
  createdAt: number;
  expiresAt: number;
}

/** The fields a credential change writes together; `credentialVersion` is bumped by the store. */
export interface CredentialWrite {
  credentials: string | null;
  expiresAt: number | null;
  status: ConnectionStatus;
  statusReason: string | null;
  refreshedAt: number | null;
  updatedAt: number;
  /** Also replace the scheme's secrets and settings (a PATCH of the auth). */
  secrets?: string | null;
  authScheme?: string;
  authConfig?: Record<string, unknown>;
}

/** The non-secret fields `updateFields` changes. */
export type ConnectionFields = Partial<
  Pick<StoredConnection, 'baseUrl' | 'metadata' | 'provider' | 'origin'>
> & {
  updatedAt: number;
};

/**
 * Connections and pending OAuth states, ciphertext and JSON mapped to domain objects. Plain persistence: the vault
 * encrypts, decides when to refresh, and owns the rules; this class owns the SQL, in particular the
 * two conditional updates the refresh protocol rests on (lock on a version, compare-and-swap of the
 * version). Every statement is one atomic UPDATE, so it holds across processes on SQLite and PostgreSQL.
 */
export class ConnectionStore {
  constructor(private readonly database: Database) {}

  async insert(connection: StoredConnection, tx: Tx = this.database.autocommit): Promise<boolean> {
    const result = await tx.db
      .insertInto('connections')
      .values(toConnectionRow(connection))
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async get(id: string, tx: Tx = this.database.autocommit): Promise<StoredConnection | undefined> {
    const row = await tx.db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toConnection(row);
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
  }): Promise<StoredConnection[]> {
    let query = this.database.db.selectFrom('connections').selectAll().orderBy('id').limit(options.limit);
    if (options.after !== undefined) query = query.where('id', '>', options.after);
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    return (await query.execute()).map(toConnection);
  }

  /** Non-secret fields (base URL, metadata, provider); credentials are written with `writeCredentials`. */
  async updateFields(
    id: string,
    fields: ConnectionFields,
    tx: Tx = this.database.autocommit,
  ): Promise<boolean> {
    const set: Partial<ConnectionsTable> = { updated_at: fields.updatedAt };
    if (fields.baseUrl !== undefined) set.base_url = fields.baseUrl;
    if (fields.metadata !== undefined) set.metadata = JSON.stringify(fields.metadata);
    if (fields.provider !== undefined) set.provider = fields.provider;
    if (fields.origin !== undefined) set.origin = fields.origin;
    const result = await tx.db.updateTable('connections').set(set).where('id', '=', id).executeTakeFirst();
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
    const set: Partial<ConnectionsTable> = {
      credentials: write.credentials,
      expires_at: write.expiresAt,
      status: write.status,
      status_reason: write.statusReason,
      refreshed_at: write.refreshedAt,
      updated_at: write.updatedAt,
      credential_version: expected + 1,
      refresh_lock: null,
      refresh_lock_until: null,
    };
    if (write.secrets !== undefined) set.secrets = write.secrets;
    if (write.authScheme !== undefined) set.auth_scheme = write.authScheme;
    if (write.authConfig !== undefined) set.auth_config = JSON.stringify(write.authConfig);
    const result = await tx.db
      .updateTable('connections')
      .set(set)
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

  async insertState(state: OauthState): Promise<void> {
    await this.database.db
      .insertInto('oauth_states')
      .values({
        id: state.id,
        connection_id: state.connectionId,
        secrets: state.secrets,
        redirect_uri: state.redirectUri,
        return_to: state.returnTo,
        created_at: state.createdAt,
        expires_at: state.expiresAt,
      })
      .execute();
  }

  /** Reads and deletes a state in one step, so a `state` can be redeemed once only. */
  async takeState(id: string): Promise<OauthState | undefined> {
    return this.database.transaction(async (tx) => {
      const row = await tx.db.selectFrom('oauth_states').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const deleted = await tx.db.deleteFrom('oauth_states').where('id', '=', id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1) return undefined;
      return toOauthState(row);
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

const numberOrNull = (value: number | null) => (value === null ? null : Number(value));

/**
 * Field by field (decision 0053). SQLite hands back integers as numbers already; PostgreSQL's bigints
 * are parsed by the pool: `Number` keeps both exact.
 */
function toConnection(row: ConnectionsTable): StoredConnection {
  return {
    id: row.id,
    provider: row.provider,
    baseUrl: row.base_url,
    authScheme: row.auth_scheme,
    authConfig: JSON.parse(row.auth_config) as Record<string, unknown>,
    secrets: row.secrets,
    credentials: row.credentials,
    expiresAt: numberOrNull(row.expires_at),
    credentialVersion: Number(row.credential_version),
    refreshLock: row.refresh_lock,
    refreshLockUntil: numberOrNull(row.refresh_lock_until),
    status: row.status,
    statusReason: row.status_reason,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    origin: row.origin,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    refreshedAt: numberOrNull(row.refreshed_at),
  };
}

function toConnectionRow(c: StoredConnection): ConnectionsTable {
  return {
    id: c.id,
    provider: c.provider,
    base_url: c.baseUrl,
    auth_scheme: c.authScheme,
    auth_config: JSON.stringify(c.authConfig),
    secrets: c.secrets,
    credentials: c.credentials,
    expires_at: c.expiresAt,
    credential_version: c.credentialVersion,
    refresh_lock: c.refreshLock,
    refresh_lock_until: c.refreshLockUntil,
    status: c.status,
    status_reason: c.statusReason,
    metadata: JSON.stringify(c.metadata),
    origin: c.origin,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    refreshed_at: c.refreshedAt,
  };
}

function toOauthState(row: OauthStatesTable): OauthState {
  return {
    id: row.id,
    connectionId: row.connection_id,
    secrets: row.secrets,
    redirectUri: row.redirect_uri,
    returnTo: row.return_to,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

/** The version stamp of a connection as `stamp` reads it, from a copy's fields. */
export function connectionStamp(updatedAt: number, credentialVersion: number, status: string): string {
  return `${updatedAt}:${credentialVersion}:${status}`;
}
