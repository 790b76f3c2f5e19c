import { type Clock, systemClock } from '../core/clock.js';
import {
  type AuthInput,
  authSchema,
  type ConnectionDefinition,
  type ConnectionInput,
  connectionSchema,
} from '../core/config/connections.js';
import { parseWith } from '../core/config/index.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { type EventPublisher, nullPublisher } from '../core/publisher.js';
import {
  type ConnectionFields,
  ConnectionStore,
  type OauthState,
  type StoredConnection,
} from '../store/connection-store.js';
import type { Database } from '../store/database.js';
import type { ConnectionStatus } from '../store/schema.js';
import {
  type AuthSecrets,
  type Connection,
  MASK,
  type StoredCredentials,
  splitAuth,
  toConnection,
} from './connection-model.js';
import type { Egress } from './egress.js';
import type { TokenSet } from './oauth-client.js';
import { columnContext, type Vault } from './vault.js';

/** Everything known about a connection at one credential version, secrets decrypted (in memory only). */
export interface ConnectionState {
  connection: Connection;
  secrets: AuthSecrets;
  credentials: StoredCredentials | undefined;
}

export interface ConnectionPatch {
  provider?: string;
  baseUrl?: string | null;
  metadata?: Record<string, unknown>;
  /** Merged onto the current auth (same scheme) or replacing it (another scheme); masked values keep the secret. */
  auth?: Record<string, unknown>;
}

export interface ConnectionServiceOptions {
  database: Database;
  vault: Vault;
  clock?: Clock;
  logger?: Logger;
  publisher?: EventPublisher;
  /** The SSRF rule: a base URL, issuer or token URL on a blocked address is refused when it is set. */
  egress?: Egress;
}

/** Why an authorization-code connection has no tokens yet. */
export const NOT_AUTHORIZED = 'not authorized yet: open the link from GET /api/v1/connections/{id}/authorize';

/**
 * Connections: create, read, change and delete them, with every secret sealed by the vault before it
 * reaches the store. Status changes (`needs_reauth`, recovery) are published as operational events.
 */
export class ConnectionService {
  private readonly store: ConnectionStore;
  private readonly vault: Vault;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly publisher: EventPublisher;
  private readonly egress: Egress | undefined;
  private readonly listeners = new Set<(id: string) => void>();

  constructor(options: ConnectionServiceOptions) {
    this.store = new ConnectionStore(options.database);
    this.vault = options.vault;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.publisher = options.publisher ?? nullPublisher;
    this.egress = options.egress;
  }

  /** Called with a connection id whenever this process changes its secrets or credentials (cache invalidation). */
  onChange(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(id: string): void {
    for (const listener of this.listeners) listener(id);
  }

  /** Validates raw input (API body, CLI flags) into a definition; errors name the field, never a value. */
  parse(input: unknown): ConnectionDefinition {
    const def = parseWith(connectionSchema, input, '', 'connection');
    this.checkDialled(def.baseUrl, def.auth);
    return def;
  }

  /** What Patchbay will dial for a connection — its API, discovery, token endpoint — must pass the SSRF rule. */
  private checkDialled(baseUrl: string | null | undefined, auth: Record<string, unknown> | undefined): void {
    if (!this.egress) return;
    if (baseUrl) this.egress.checkUrl('baseUrl', baseUrl);
    for (const field of ['issuer', 'tokenUrl'] as const) {
      const value = auth?.[field];
      if (typeof value === 'string') this.egress.checkUrl(`auth.${field}`, value);
    }
  }

  async create(
    input: ConnectionInput | ConnectionDefinition,
    origin: 'api' | 'config' = 'api',
  ): Promise<Connection> {
    const def = this.parse(input);
    const now = this.clock.now();
    const row = await this.newRow(def, origin, now);
    if (!(await this.store.insert(row))) {
      throw new PatchbayError(ErrorCode.CONFLICT, `connection ${def.id} already exists`);
    }
    this.logger.info({ connection: def.id, scheme: def.auth.scheme, origin }, 'connection created');
    return toConnection(row);
  }

  /**
   * Makes the store match the config file's connections: new ones are created; changed settings or
   * secrets are written (keeping tokens obtained through OAuth when the client is unchanged).
   */
  async syncFromConfig(definitions: readonly ConnectionDefinition[]): Promise<void> {
    for (const [i, def] of definitions.entries()) {
      try {
        this.checkDialled(def.baseUrl, def.auth as Record<string, unknown>);
      } catch (err) {
        throw new PatchbayError(
          ErrorCode.CONFIG_INVALID,
          `connections[${i}] (${def.id}): ${(err as Error).message}`,
        );
      }
      const existing = await this.store.get(def.id);
      if (!existing) {
        await this.store.insert(await this.newRow(def, 'config', this.clock.now()));
        continue;
      }
      const current = await this.state(existing);
      const { settings, secrets } = splitAuth(def.auth);
      const { accessToken, refreshToken, ...plainSecrets } = secrets;
      const sameSettings = stableJson(settings) === stableJson(current.connection.settings);
      const sameSecrets = stableJson(plainSecrets) === stableJson(current.secrets);
      if (
        existing.provider !== def.provider ||
        existing.baseUrl !== (def.baseUrl ?? null) ||
        stableJson(existing.metadata) !== stableJson(def.metadata ?? {}) ||
        existing.origin !== 'config'
      ) {
        await this.store.updateFields(def.id, {
          provider: def.provider,
          baseUrl: def.baseUrl ?? null,
          metadata: def.metadata ?? {},
          origin: 'config',
          updatedAt: this.clock.now(),
        });
      }
      if (!sameSettings || !sameSecrets) {
        // Tokens in the config seed a new connection only: later ones came from refreshes (and rotation).
        const { accessToken: _a, refreshToken: _r, ...auth } = def.auth as Record<string, unknown>;
        await this.writeAuth(current, auth as AuthInput);
      }
    }
  }

  async get(id: string): Promise<Connection | undefined> {
    const row = await this.store.get(id);
    return row && toConnection(row);
  }

  async require(id: string): Promise<Connection> {
    const connection = await this.get(id);
    if (!connection) throw new PatchbayError(ErrorCode.NOT_FOUND, `no connection ${id}`);
    return connection;
  }

  /** Connections in id order; ask for `limit + 1` to know whether another page follows. */
  async list(options: { after?: string; limit: number; status?: ConnectionStatus }): Promise<Connection[]> {
    return (await this.store.list(options)).map(toConnection);
  }

  async update(id: string, patch: ConnectionPatch): Promise<Connection> {
    const existing = await this.store.get(id);
    if (!existing) throw new PatchbayError(ErrorCode.NOT_FOUND, `no connection ${id}`);
    const fields: Omit<ConnectionFields, 'updatedAt' | 'origin'> = {};
    if (patch.provider !== undefined)
      fields.provider = parseWith(connectionSchema.shape.provider, patch.provider, 'provider');
    if (patch.baseUrl !== undefined)
      fields.baseUrl =
        patch.baseUrl === null ? null : parseWith(connectionSchema.shape.baseUrl, patch.baseUrl, 'baseUrl')!;
    this.checkDialled(fields.baseUrl, undefined);
    if (patch.metadata !== undefined)
      fields.metadata = parseWith(connectionSchema.shape.metadata, patch.metadata, 'metadata');
    if (Object.keys(fields).length > 0)
      await this.store.updateFields(id, { ...fields, updatedAt: this.clock.now() });
    if (patch.auth !== undefined) {
      const current = await this.state(existing);
      const merged =
        patch.auth.scheme === undefined || patch.auth.scheme === current.connection.scheme
          ? {
              ...current.connection.settings,
              ...current.secrets,
              ...withoutMasks(patch.auth),
              scheme: current.connection.scheme,
            }
          : patch.auth;
      // Tokens are credentials, not settings: only new ones given in the patch are imported.
      if (patch.auth.accessToken === undefined) delete (merged as Record<string, unknown>).accessToken;
      if (patch.auth.refreshToken === undefined) delete (merged as Record<string, unknown>).refreshToken;
      const auth = parseWith(authSchema, merged, 'auth');
      this.checkDialled(undefined, auth as Record<string, unknown>);
      await this.writeAuth(current, auth);
    }
    const updated = (await this.get(id))!;
    this.logger.info({ connection: id, fields: Object.keys(patch) }, 'connection updated');
    return updated;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw new PatchbayError(ErrorCode.NOT_FOUND, `no connection ${id}`);
    this.changed(id);
    this.logger.info({ connection: id }, 'connection deleted');
  }

  /** The connection's version stamp (`ConnectionStore.stamp`), undefined when it is gone. */
  stamp(id: string): Promise<string | undefined> {
    return this.store.stamp(id);
  }

  /** The connection's current credential version, undefined when it is gone. */
  async credentialVersion(id: string): Promise<number | undefined> {
    return (await this.store.get(id))?.credentialVersion;
  }

  /**
   * Takes the cross-process refresh lock for credential version `version` (`ConnectionStore.tryLock`):
   * exactly one caller wins per version.
   */
  lockForRefresh(id: string, version: number, owner: string, now: number, until: number): Promise<boolean> {
    return this.store.tryLock(id, version, owner, now, until);
  }

  /** Gives the refresh lock back without changing the credentials (the refresh failed). */
  unlockRefresh(id: string, owner: string): Promise<void> {
    return this.store.unlock(id, owner);
  }

  /** Records a pending OAuth authorization, pruning those expired by its creation time. */
  async saveState(state: OauthState): Promise<void> {
    await this.store.pruneStates(state.createdAt);
    await this.store.insertState(state);
  }

  /** Redeems a pending authorization once: read and deleted together. */
  takeState(id: string): Promise<OauthState | undefined> {
    return this.store.takeState(id);
  }

  /** Reads a connection and decrypts its secrets and tokens (for the refresh manager and auth providers). */
  async load(id: string): Promise<ConnectionState> {
    const row = await this.store.get(id);
    if (!row) throw new PatchbayError(ErrorCode.NOT_FOUND, `no connection ${id}`);
    return this.state(row);
  }

  async state(row: StoredConnection): Promise<ConnectionState> {
    const connection = toConnection(row);
    const secrets = row.secrets
      ? await this.vault.openJson<AuthSecrets>(row.secrets, columnContext('connections', row.id, 'secrets'))
      : {};
    const credentials = row.credentials
      ? await this.vault.openJson<StoredCredentials>(
          row.credentials,
          columnContext('connections', row.id, 'credentials'),
        )
      : undefined;
    return { connection, secrets, credentials };
  }

  /**
   * Persists tokens from a grant with a compare-and-swap on the version they replace. A refresh token
   * the server did not rotate is kept. Returns the new version, or undefined if another writer won.
   */
  async saveTokens(previous: ConnectionState, tokens: TokenSet): Promise<number | undefined> {
    const { connection } = previous;
    const credentials: StoredCredentials = {
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      ...((tokens.refreshToken ?? previous.credentials?.refreshToken) && {
        refreshToken: tokens.refreshToken ?? previous.credentials?.refreshToken,
      }),
      ...(tokens.scope && { scope: tokens.scope }),
    };
    const now = this.clock.now();
    const version = await this.store.writeCredentials(connection.id, connection.version, {
      credentials: await this.vault.sealJson(
        credentials,
        columnContext('connections', connection.id, 'credentials'),
      ),
      expiresAt: tokens.expiresAt,
      status: 'active',
      statusReason: null,
      refreshedAt: now,
      updatedAt: now,
    });
    if (version === undefined) return undefined;
    this.changed(connection.id);
    if (connection.status !== 'active') await this.announceRecovery(connection, version);
    return version;
  }

  /**
   * Marks a connection `needs_reauth` (its grant was refused) unless its credentials moved on meanwhile,
   * and publishes `connection.needs_reauth` once per credential version.
   */
  async markNeedsReauth(connection: Connection, reason: string): Promise<boolean> {
    return this.markStatus(connection, 'needs_reauth', reason);
  }

  /** Marks a connection `error` (e.g. its token endpoint keeps failing while the token has expired). */
  async markError(connection: Connection, reason: string): Promise<boolean> {
    return this.markStatus(connection, 'error', reason);
  }

  private async markStatus(
    connection: Connection,
    status: ConnectionStatus,
    reason: string,
  ): Promise<boolean> {
    if (connection.status === status && connection.statusReason === reason) return true;
    const changed = await this.store.setStatus(
      connection.id,
      connection.version,
      status,
      reason,
      this.clock.now(),
    );
    if (!changed) return false;
    this.changed(connection.id);
    this.logger.warn({ connection: connection.id, status, reason }, `connection ${status}`);
    if (status === 'needs_reauth' && connection.status !== 'needs_reauth') {
      await this.publish('connection.needs_reauth', connection, connection.version, { reason });
    }
    return true;
  }

  private async announceRecovery(connection: Connection, version: number): Promise<void> {
    // A first authorization is not a recovery: only a connection that once had tokens recovers.
    if (connection.refreshedAt === null && connection.scheme !== 'oauth2-client-credentials') return;
    this.logger.info({ connection: connection.id, from: connection.status }, 'connection recovered');
    await this.publish('connection.recovered', connection, version, { previousStatus: connection.status });
  }

  private async publish(
    type: string,
    connection: Connection,
    version: number,
    extra: Record<string, unknown>,
  ) {
    try {
      await this.publisher.publish({
        type,
        payload: { connectionId: connection.id, provider: connection.provider, ...extra },
        idempotencyKey: `${type}:${connection.id}:${version}`,
      });
    } catch (err) {
      // The status is in the store either way; a lost notification must not fail the caller's request.
      this.logger.error(
        { connection: connection.id, type, err: (err as Error).message },
        'publishing failed',
      );
    }
  }

  private async newRow(
    def: ConnectionDefinition,
    origin: 'api' | 'config',
    now: number,
  ): Promise<StoredConnection> {
    const { settings, secrets } = splitAuth(def.auth);
    const { accessToken, refreshToken, ...plainSecrets } = secrets;
    const secretFields = Object.keys(plainSecrets);
    const pendingCode = def.auth.scheme === 'oauth2-authorization-code' && !accessToken && !refreshToken;
    const credentials =
      accessToken || refreshToken
        ? await this.vault.sealJson(
            { accessToken: accessToken ?? '', tokenType: 'bearer', ...(refreshToken && { refreshToken }) },
            columnContext('connections', def.id, 'credentials'),
          )
        : null;
    return {
      id: def.id,
      provider: def.provider,
      baseUrl: def.baseUrl ?? null,
      authScheme: def.auth.scheme,
      authConfig: { ...settings, secretFields },
      secrets:
        secretFields.length > 0
          ? await this.vault.sealJson(plainSecrets, columnContext('connections', def.id, 'secrets'))
          : null,
      credentials,
      // Imported tokens have an unknown expiry: an access token alone is used until a 401; with a refresh
      // token, it is refreshed before first use.
      expiresAt: credentials && !accessToken ? 0 : null,
      credentialVersion: credentials ? 1 : 0,
      refreshLock: null,
      refreshLockUntil: null,
      status: pendingCode ? 'needs_reauth' : 'active',
      statusReason: pendingCode ? NOT_AUTHORIZED.replace('{id}', def.id) : null,
      metadata: def.metadata ?? {},
      origin,
      createdAt: now,
      updatedAt: now,
      refreshedAt: null,
    };
  }

  /** Writes new auth (settings and secrets), bumping the credential version. */
  private async writeAuth(current: ConnectionState, auth: AuthInput): Promise<void> {
    const { connection } = current;
    const { settings, secrets } = splitAuth(auth);
    const { accessToken, refreshToken, ...plainSecrets } = secrets;
    const secretFields = Object.keys(plainSecrets);
    const sameClient =
      auth.scheme === connection.scheme &&
      ['issuer', 'tokenUrl', 'clientId', 'scopes'].every(
        (k) => stableJson(settings[k]) === stableJson(connection.settings[k]),
      );
    // Tokens survive a change of secret (a rotated client secret) but not a change of client or scheme.
    let credentials: StoredCredentials | undefined = sameClient ? current.credentials : undefined;
    let expiresAt = sameClient ? connection.expiresAt : null;
    if (accessToken || refreshToken) {
      credentials = {
        accessToken: accessToken ?? '',
        tokenType: 'bearer',
        ...((refreshToken ?? credentials?.refreshToken) && {
          refreshToken: refreshToken ?? credentials?.refreshToken,
        }),
      };
      expiresAt = accessToken ? null : 0;
    }
    if (
      auth.scheme === 'oauth2-client-credentials' &&
      stableJson(plainSecrets) !== stableJson(current.secrets)
    ) {
      // A new client secret proves itself on the next token request.
      credentials = undefined;
      expiresAt = null;
    }
    let status: ConnectionStatus = connection.status;
    let reason = connection.statusReason;
    const newCredentials =
      Boolean(accessToken || refreshToken) || stableJson(plainSecrets) !== stableJson(current.secrets);
    if (auth.scheme === 'oauth2-authorization-code' && !credentials) {
      status = 'needs_reauth';
      reason = NOT_AUTHORIZED.replace('{id}', connection.id);
    } else if (status !== 'active' && newCredentials) {
      status = 'active';
      reason = null;
    }
    const now = this.clock.now();
    const version = await this.store.writeCredentials(connection.id, connection.version, {
      authScheme: auth.scheme,
      authConfig: { ...settings, secretFields },
      secrets:
        secretFields.length > 0
          ? await this.vault.sealJson(plainSecrets, columnContext('connections', connection.id, 'secrets'))
          : null,
      credentials: credentials
        ? await this.vault.sealJson(credentials, columnContext('connections', connection.id, 'credentials'))
        : null,
      expiresAt,
      status,
      statusReason: reason,
      refreshedAt: connection.refreshedAt,
      updatedAt: now,
    });
    if (version === undefined) {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `connection ${connection.id} changed while it was being updated (a token refresh); try again`,
      );
    }
    this.changed(connection.id);
    if (connection.status !== 'active' && status === 'active')
      await this.announceRecovery(connection, version);
  }
}

function withoutMasks(auth: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(auth).filter(([, v]) => v !== MASK));
}

/** JSON with sorted keys, to compare settings regardless of key order. */
function stableJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
          )
        : v,
    ) ?? 'undefined'
  );
}
