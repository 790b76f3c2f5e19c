import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type { Connection } from './connection-model.js';
import type { ConnectionService } from './connection-service.js';
import type { OAuthClient, OAuthServerConfig } from './oauth-client.js';
import { columnContext, type Vault } from './vault.js';

export interface AuthorizationFlowOptions {
  connections: ConnectionService;
  oauth: OAuthClient;
  vault: Vault;
  clock?: Clock;
  logger?: Logger;
  /** How long an authorization link stays valid, in ms. Defaults to 10 min. */
  stateTtlMs?: number;
  /** The `/oauth/callback` URL registered with providers, unless a connection sets its own `redirectUrl`. */
  redirectUrl?: string;
}

export interface StartedAuthorization {
  /** Where to send the user (the provider's consent page, with PKCE and state). */
  url: string;
  expiresAt: number;
  redirectUri: string;
}

const stateId = (state: string) => createHash('sha256').update(state).digest('hex');

/**
 * The OAuth 2.0 authorization code flow with PKCE (S256) and `state`: `start` makes the link and keeps
 * the verifier (encrypted) under a hash of the state; `complete` redeems the state once, checks the
 * callback and exchanges the code. A state is single use and short-lived, which is the CSRF defence.
 */
export class AuthorizationFlow {
  private readonly connections: ConnectionService;
  private readonly oauth: OAuthClient;
  private readonly vault: Vault;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly stateTtlMs: number;
  private readonly redirectUrl: string | undefined;

  constructor(options: AuthorizationFlowOptions) {
    this.connections = options.connections;
    this.oauth = options.oauth;
    this.vault = options.vault;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.stateTtlMs = options.stateTtlMs ?? 600_000;
    if (!Number.isFinite(this.stateTtlMs) || this.stateTtlMs <= 0) {
      throw new PatchbayError(
        ErrorCode.CONFIG_INVALID,
        `stateTtlMs must be a positive number of ms, got ${String(this.stateTtlMs)}`,
      );
    }
    this.redirectUrl = options.redirectUrl;
  }

  /**
   * Starts an authorization for a connection. `redirectUri` is the callback to use when neither the
   * connection nor the options name one (the server passes its own address). `returnTo` is where the
   * callback sends the browser afterwards.
   */
  async start(
    connectionId: string,
    options: { redirectUri?: string; returnTo?: string } = {},
    signal?: AbortSignal,
  ): Promise<StartedAuthorization> {
    const connection = await this.connections.require(connectionId);
    if (connection.scheme !== 'oauth2-authorization-code') {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `connection ${connectionId} uses ${connection.scheme}; only oauth2-authorization-code connections are authorized in a browser`,
      );
    }
    const redirectUri =
      (connection.settings.redirectUrl as string | undefined) ?? this.redirectUrl ?? options.redirectUri;
    if (!redirectUri) {
      throw new PatchbayError(
        ErrorCode.CONFIG_INVALID,
        `no redirect URL for connection ${connectionId}: set vault.oauthRedirectUrl (the public URL of /oauth/callback)`,
      );
    }
    if (options.returnTo !== undefined && !/^https?:\/\//i.test(options.returnTo)) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'returnTo must be an absolute http(s) URL');
    }
    const state = oauth.generateRandomState();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const url = await this.oauth.authorizationUrl(
      connection.settings as unknown as OAuthServerConfig,
      { redirectUri, state, codeVerifier },
      signal,
    );
    const id = stateId(state);
    const now = this.clock.now();
    const expiresAt = now + this.stateTtlMs;
    await this.connections.saveState({
      id,
      connectionId,
      secrets: await this.vault.sealJson({ codeVerifier }, columnContext('oauth_states', id, 'secrets')),
      redirectUri,
      returnTo: options.returnTo ?? null,
      createdAt: now,
      expiresAt,
    });
    this.logger.info({ connection: connectionId }, 'authorization started');
    return { url: url.href, expiresAt, redirectUri };
  }

  /** Handles the provider's redirect: redeems `state`, exchanges the code, stores the tokens. */
  async complete(
    callback: URLSearchParams,
    signal?: AbortSignal,
  ): Promise<{ connection: Connection; returnTo: string | null }> {
    const state = callback.get('state');
    if (!state) throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'the callback has no state parameter');
    const row = await this.connections.takeState(stateId(state));
    if (!row) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        'unknown or already used state: this authorization link was used or never issued; start again',
      );
    }
    if (row.expiresAt < this.clock.now()) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'this authorization link has expired; start again');
    }
    const { codeVerifier } = await this.vault.openJson<{ codeVerifier: string }>(
      row.secrets,
      columnContext('oauth_states', row.id, 'secrets'),
    );
    let current = await this.connections.load(row.connectionId);
    const tokens = await this.oauth.exchangeCode(
      current.connection.settings as unknown as OAuthServerConfig,
      current.secrets.clientSecret,
      { callback, state, redirectUri: row.redirectUri, codeVerifier },
      signal,
    );
    // The tokens of a new grant replace whatever the connection held, whatever refreshes ran meanwhile.
    for (let attempt = 0; attempt < 5; attempt++) {
      const version = await this.connections.saveTokens({ ...current, credentials: undefined }, tokens);
      if (version !== undefined) {
        this.logger.info({ connection: row.connectionId }, 'connection authorized');
        return { connection: await this.connections.require(row.connectionId), returnTo: row.returnTo };
      }
      current = await this.connections.load(row.connectionId);
    }
    throw new PatchbayError(
      ErrorCode.CONFLICT,
      `connection ${row.connectionId} kept changing; authorize again`,
    );
  }
}
