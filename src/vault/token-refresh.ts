import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { context, type Span } from '@opentelemetry/api';
import { abortError, type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, errorMessage, isPatchbayError, PatchbayError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { inSpan, tracingOn } from '../core/tracing.js';
import { connectionStamp } from '../store/connection-store.js';
import type { Connection } from './connection-model.js';
import type { ConnectionService, ConnectionState } from './connection-service.js';
import {
  type OAuthClient,
  type OAuthServerConfig,
  oauthErrorOf,
  REAUTH_ERRORS,
  type TokenSet,
} from './oauth-client.js';

export interface TokenRefreshOptions {
  connections: ConnectionService;
  oauth: OAuthClient;
  clock?: Clock;
  logger?: Logger;
  /** Refresh an access token this long before it expires, in ms. Defaults to 60 s. */
  refreshSkewMs?: number;
  /**
   * How long one process may hold a connection's refresh lock, in ms; if it dies meanwhile, another
   * takes over after this. Must exceed the token endpoint timeout. Defaults to 30 s.
   */
  lockTimeoutMs?: number;
  /** First wait between looks at the store while another process refreshes, in ms (doubles up to 500). Defaults to 25. */
  lockPollMs?: number;
  /** How long static credentials (bearer, api-key, basic) are reused before re-reading them, in ms. Defaults to 30 s. */
  staticCacheMs?: number;
  /**
   * How long a cached copy serves before its version stamp is read again, in ms: a change or deletion
   * made by another process is seen within this. Defaults to 1 s.
   */
  revalidateMs?: number;
  /** This process's name in refresh locks. Defaults to `<host>:<pid>:<random>`. */
  owner?: string;
  /** Told when reading a version stamp failed (for metrics); the cached copy serves meanwhile. */
  onRevalidateError?: (connectionId: string, err: unknown) => void;
  /** Told of every token request this process makes (for metrics). */
  onGrant?: (event: GrantEvent) => void;
}

/** One token request: which connection, which grant, how it ended, how long it took. */
export interface GrantEvent {
  connectionId: string;
  grantType: 'client_credentials' | 'refresh_token';
  /** `ok`; `refused` (invalid_grant, invalid_client: needs re-authorization); `failed` (network, 5xx). */
  outcome: 'ok' | 'refused' | 'failed';
  durationMs: number;
}

const DEFAULTS = {
  refreshSkewMs: 60_000,
  lockTimeoutMs: 30_000,
  lockPollMs: 25,
  staticCacheMs: 30_000,
  revalidateMs: 1000,
};
const MAX_POLL_MS = 500;

interface CacheEntry {
  state: ConnectionState;
  checkedAt: number;
  /** When the stored stamp last matched this copy. */
  verifiedAt: number;
}

const OAUTH_SCHEMES = new Set(['oauth2-client-credentials', 'oauth2-authorization-code']);

/**
 * Keeps every connection's credentials usable, and refreshes each access token exactly once per expiry
 * however many callers and processes need it:
 * - ahead of expiry (`refreshSkewMs`), so calls rarely meet an expired token;
 * - single flight in a process: concurrent callers share one refresh;
 * - across processes, a lock taken by a conditional UPDATE on the credential version: one process
 *   refreshes, the others keep using the still-valid token or wait and re-read; the new tokens are
 *   written with a compare-and-swap on that version, before anyone uses them, so a rotated refresh
 *   token is never lost;
 * - a refresh refused with `invalid_grant` (or `invalid_client`) marks the connection `needs_reauth`
 *   and publishes `connection.needs_reauth`; a later success publishes `connection.recovered`.
 */
/** Resolves or rejects with `promise`, or rejects with `ABORTED` as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

export class TokenRefreshManager {
  private readonly connections: ConnectionService;
  private readonly oauth: OAuthClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly options: typeof DEFAULTS;
  readonly owner: string;
  private readonly onGrant: ((event: GrantEvent) => void) | undefined;
  private readonly onRevalidateError: ((connectionId: string, err: unknown) => void) | undefined;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly flights = new Map<string, Promise<ConnectionState>>();
  /** Token grants made by this process (for metrics and tests). */
  grants = 0;

  constructor(options: TokenRefreshOptions) {
    this.connections = options.connections;
    this.oauth = options.oauth;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.options = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const value = options[key];
      if (value === undefined) continue;
      if (!Number.isFinite(value) || value < 0) {
        throw new PatchbayError(
          ErrorCode.CONFIG_INVALID,
          `${key} must be a number of ms ≥ 0, got ${String(value)}`,
        );
      }
      this.options[key] = value;
    }
    this.onGrant = options.onGrant;
    this.onRevalidateError = options.onRevalidateError;
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.connections.onChange((id) => this.cache.delete(id));
  }

  /** Forgets what this process cached for a connection. */
  invalidate(id: string): void {
    this.cache.delete(id);
  }

  /** The connection's current, usable credentials, refreshing them first when they are about to expire. */
  async current(id: string, signal?: AbortSignal): Promise<ConnectionState> {
    const entry = this.cache.get(id);
    if (entry && this.usable(entry) && (await this.unchanged(entry))) return entry.state;
    return untilAborted(
      this.flight(id, () => this.resolve(id, undefined)),
      signal,
    );
  }

  /**
   * After a 401: refreshes unless the credentials already moved past `seenVersion` (another caller or
   * process refreshed since). Resolves true when newer credentials are available for one retry.
   */
  async forceRefresh(id: string, seenVersion: number, signal?: AbortSignal): Promise<boolean> {
    const state = await untilAborted(
      this.flight(`${id}#${seenVersion}`, () => this.resolve(id, seenVersion)),
      signal,
    );
    return state.connection.version > seenVersion;
  }

  /**
   * A refresh shared by concurrent callers runs without any one caller's signal (one caller giving up
   * must not fail the others); it is bounded by the token timeout and the lock timeout instead, and
   * each caller stops waiting when its own signal aborts.
   */
  private flight(key: string, fn: () => Promise<ConnectionState>): Promise<ConnectionState> {
    const running = this.flights.get(key);
    if (running) return running;
    const promise = fn().finally(() => this.flights.delete(key));
    this.flights.set(key, promise);
    return promise;
  }

  private usable(entry: CacheEntry): boolean {
    const { connection, credentials } = entry.state;
    if (!OAUTH_SCHEMES.has(connection.scheme))
      return this.clock.now() - entry.checkedAt < this.options.staticCacheMs;
    return credentials !== undefined && credentials.accessToken !== '' && this.fresh(connection);
  }

  private fresh(connection: Connection): boolean {
    return (
      connection.expiresAt === null || this.clock.now() < connection.expiresAt - this.options.refreshSkewMs
    );
  }

  private expired(connection: Connection): boolean {
    return connection.expiresAt !== null && this.clock.now() >= connection.expiresAt;
  }

  private remember(state: ConnectionState): ConnectionState {
    const now = this.clock.now();
    this.cache.set(state.connection.id, { state, checkedAt: now, verifiedAt: now });
    return state;
  }

  /**
   * Whether a cached copy is still the stored connection: within `revalidateMs` of the last check it is
   * taken as such; after, its stamp is read (one small query, no secret) and compared. Another process's
   * change or deletion drops the copy. A failed read is logged and counted, and the copy serves.
   */
  private async unchanged(entry: CacheEntry): Promise<boolean> {
    const now = this.clock.now();
    if (now - entry.verifiedAt < this.options.revalidateMs) return true;
    const { connection } = entry.state;
    let stored: string | undefined;
    try {
      stored = await this.connections.stamp(connection.id);
    } catch (err) {
      this.onRevalidateError?.(connection.id, err);
      this.logger.warn(
        { connection: connection.id, err: errorMessage(err) },
        'could not read whether the connection changed; using the cached copy',
      );
      return true;
    }
    if (stored !== connectionStamp(connection.updatedAt, connection.version, connection.status)) {
      this.cache.delete(connection.id);
      return false;
    }
    entry.verifiedAt = now;
    return true;
  }

  private async resolve(id: string, seenVersion: number | undefined): Promise<ConnectionState> {
    const force = seenVersion !== undefined;
    let pollMs = Math.max(1, this.options.lockPollMs);
    const deadline = this.clock.now() + 2 * this.options.lockTimeoutMs;
    for (;;) {
      const state = await this.connections.load(id);
      const { connection, credentials } = state;
      if (!OAUTH_SCHEMES.has(connection.scheme)) return this.remember(state);
      // Its grant was refused: even an unexpired access token belongs to a revoked grant.
      if (connection.status === 'needs_reauth') {
        throw new PatchbayError(
          ErrorCode.NEEDS_REAUTH,
          `connection ${id} needs re-authorization: ${connection.statusReason ?? 'its grant was refused'}`,
          { data: { connectionId: id } },
        );
      }
      if (force && connection.version > seenVersion) return this.remember(state);
      const hasToken = credentials !== undefined && credentials.accessToken !== '';
      if (!force && hasToken && this.fresh(connection)) return this.remember(state);
      const canRefresh =
        connection.scheme === 'oauth2-client-credentials' || credentials?.refreshToken !== undefined;
      if (!canRefresh) {
        // An imported access token without a refresh token: use it until it expires or is refused.
        if (hasToken && !this.expired(connection) && !force) return this.remember(state);
        if (this.expired(connection)) {
          await this.connections.markNeedsReauth(
            connection,
            'the access token expired and there is no refresh token',
          );
          throw new PatchbayError(
            ErrorCode.NEEDS_REAUTH,
            `connection ${id} needs re-authorization: no refresh token`,
          );
        }
        return state;
      }
      const now = this.clock.now();
      const locked = await this.connections.lockForRefresh(
        id,
        connection.version,
        this.owner,
        now,
        now + this.options.lockTimeoutMs,
      );
      if (!locked) {
        // Another process is refreshing this version. Until the token actually expires it is still good.
        if (!force && hasToken && !this.expired(connection)) return state;
        if (this.clock.now() > deadline) {
          throw new PatchbayError(
            ErrorCode.TIMEOUT,
            `gave up waiting for another process to refresh connection ${id} after ${2 * this.options.lockTimeoutMs} ms`,
          );
        }
        await this.clock.sleep(pollMs);
        pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
        continue;
      }
      const refreshed = tracingOn()
        ? await inSpan('oauth.refresh', context.active(), { 'patchbay.connection': id }, (span) =>
            this.refreshLocked(state, force, span),
          )
        : await this.refreshLocked(state, force, undefined);
      if (refreshed) return this.remember(refreshed);
      // Lost the compare-and-swap (our lock had expired and someone else wrote): read again.
    }
  }

  /** Holding the lock: asks the token endpoint, persists the result, returns the new state (or undefined to re-read). */
  private async refreshLocked(
    state: ConnectionState,
    force: boolean,
    span: Span | undefined,
  ): Promise<ConnectionState | undefined> {
    const { connection, credentials, secrets } = state;
    let tokens: TokenSet;
    const grantType =
      connection.scheme === 'oauth2-client-credentials' ? 'client_credentials' : 'refresh_token';
    const started = this.clock.now();
    // The span gets the grant and how it ended; never a token, a secret or the endpoint's answer.
    span?.setAttribute('patchbay.oauth.grant_type', grantType);
    const report = (outcome: GrantEvent['outcome']) => {
      span?.setAttribute('patchbay.oauth.outcome', outcome);
      this.onGrant?.({
        connectionId: connection.id,
        grantType,
        outcome,
        durationMs: this.clock.now() - started,
      });
    };
    try {
      this.grants++;
      const config = connection.settings as unknown as OAuthServerConfig;
      tokens =
        grantType === 'client_credentials'
          ? await this.oauth.clientCredentials(config, secrets.clientSecret)
          : await this.oauth.refresh(config, secrets.clientSecret, credentials!.refreshToken!);
      report('ok');
    } catch (err) {
      const code = oauthErrorOf(err);
      report(code && REAUTH_ERRORS.has(code) ? 'refused' : 'failed');
      return this.refreshFailed(state, force, err);
    }
    const version = await this.connections.saveTokens(state, tokens);
    if (version === undefined) {
      this.logger.warn({ connection: connection.id }, 'a refresh lost its compare-and-swap; re-reading');
      return undefined;
    }
    this.logger.debug(
      { connection: connection.id, version, expiresAt: tokens.expiresAt },
      'credentials refreshed',
    );
    const stored = {
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      ...((tokens.refreshToken ?? credentials?.refreshToken) && {
        refreshToken: tokens.refreshToken ?? credentials?.refreshToken,
      }),
      ...(tokens.scope && { scope: tokens.scope }),
    };
    const now = this.clock.now();
    return {
      secrets,
      credentials: stored,
      connection: {
        ...connection,
        version,
        expiresAt: tokens.expiresAt,
        status: 'active',
        statusReason: null,
        hasAccessToken: true,
        refreshedAt: now,
        updatedAt: now,
      },
    };
  }

  private async refreshFailed(
    state: ConnectionState,
    force: boolean,
    err: unknown,
  ): Promise<ConnectionState> {
    const { connection, credentials } = state;
    const oauthError = oauthErrorOf(err);
    if (oauthError && REAUTH_ERRORS.has(oauthError)) {
      // If the version moved, another process refreshed first (our refresh token was already spent):
      // that is not a refusal of the grant.
      const latest = await this.connections.credentialVersion(connection.id);
      if (latest !== undefined && latest !== connection.version) return this.connections.load(connection.id);
      const reason = `the provider refused the ${connection.scheme === 'oauth2-client-credentials' ? 'client credentials' : 'refresh token'} (${oauthError})`;
      await this.connections.markNeedsReauth(connection, reason);
      this.invalidate(connection.id);
      throw new PatchbayError(
        ErrorCode.NEEDS_REAUTH,
        `connection ${connection.id} needs re-authorization: ${reason}`,
        {
          cause: err,
          oauthError,
          data: { connectionId: connection.id },
        },
      );
    }
    await this.connections.unlockRefresh(connection.id, this.owner);
    const hasToken = credentials !== undefined && credentials.accessToken !== '';
    if (!force && hasToken && !this.expired(connection)) {
      // Refreshing early failed; the token still works for a while, and the next call tries again.
      this.logger.warn({ connection: connection.id, err: errorMessage(err) }, 'early token refresh failed');
      return state;
    }
    if (this.expired(connection) || !hasToken) {
      await this.connections.markError(connection, `token refresh failed: ${errorMessage(err)}`);
    }
    throw isPatchbayError(err)
      ? err
      : new PatchbayError(ErrorCode.OAUTH_ERROR, `token refresh failed: ${errorMessage(err)}`, {
          cause: err,
        });
  }
}
