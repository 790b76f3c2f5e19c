import * as oauth from 'oauth4webapi';
import { fetch as undiciFetch } from 'undici';
import { type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, errorMessage, PatchbayError, truncateBody } from '../core/errors.js';
import { scrubSecrets } from '../core/redact.js';
import { Egress } from './egress.js';

/** What the vault needs to know about an authorization server, from a connection's auth settings. */
export interface OAuthServerConfig {
  issuer?: string;
  tokenUrl?: string;
  authorizationUrl?: string;
  clientId: string;
  clientAuth?: 'client_secret_basic' | 'client_secret_post' | 'none';
  scopes?: string[];
  tokenParams?: Record<string, string>;
  authorizationParams?: Record<string, string>;
}

/** Tokens from a token endpoint, with the expiry made absolute. */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  refreshToken?: string;
  /** When the access token expires (ms since the epoch), or null when the server did not say. */
  expiresAt: number | null;
  scope?: string;
}

export interface OAuthClientOptions {
  /**
   * Allow plain-http endpoints whose host is a loopback address (a local test server). Anything else
   * must be https, always. Defaults to false.
   */
  allowInsecureLoopback?: boolean;
  /** Longest wait for one token or discovery request, in ms. Defaults to 10 s. */
  timeoutMs?: number;
  /** How long discovered metadata is reused, in ms. Defaults to 1 h. */
  discoveryTtlMs?: number;
  /**
   * The SSRF rule every discovery and token request passes (docs/ssrf.md). Defaults to one with no
   * allowed network beyond loopback when `allowInsecureLoopback` is set.
   */
  egress?: Egress;
  /** The fetch used for every request, instead of undici's through `egress` (bypasses the guard's connect check). */
  fetch?: typeof fetch;
  clock?: Clock;
}

const DEFAULTS = { allowInsecureLoopback: false, timeoutMs: 10_000, discoveryTtlMs: 3_600_000 };

/** OAuth error codes that mean the grant or the client is no longer accepted: a person must act. */
export const REAUTH_ERRORS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client']);

/** The OAuth `error` of a failed token request (`invalid_grant`…), when the server gave one. */
export function oauthErrorOf(err: unknown): string | undefined {
  return err instanceof PatchbayError ? err.oauthError : undefined;
}

export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The OAuth 2.0 protocol, through oauth4webapi (not hand-written): discovery, client credentials,
 * authorization code with PKCE and state, refresh. Every failure becomes a `PatchbayError` with code
 * `OAUTH_ERROR` and, when the server said, `oauthError` (`invalid_grant`…); no message holds a token.
 */
export class OAuthClient {
  private readonly options: Required<Omit<OAuthClientOptions, 'fetch' | 'clock' | 'egress'>>;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly egress: Egress;
  private readonly ownEgress: boolean;
  private readonly clock: Clock;
  private readonly discovered = new Map<string, { as: oauth.AuthorizationServer; at: number }>();

  constructor(options: OAuthClientOptions = {}) {
    this.options = { ...DEFAULTS, ...stripUndefined(options) };
    if (!Number.isFinite(this.options.timeoutMs) || this.options.timeoutMs <= 0) {
      throw new PatchbayError(
        ErrorCode.CONFIG_INVALID,
        `timeoutMs must be a positive number of ms, got ${String(this.options.timeoutMs)}`,
      );
    }
    this.fetchImpl = options.fetch;
    this.clock = options.clock ?? systemClock;
    this.ownEgress = options.egress === undefined;
    this.egress = options.egress ?? new Egress({ allowLoopback: this.options.allowInsecureLoopback });
  }

  /** Closes the guarded connections of an egress this client made itself. */
  async close(): Promise<void> {
    if (this.ownEgress) await this.egress.close();
  }

  /** The authorization server's metadata: discovered from `issuer`, or built from explicit endpoints. */
  async server(config: OAuthServerConfig, signal?: AbortSignal): Promise<oauth.AuthorizationServer> {
    if (!config.issuer) {
      const tokenUrl = this.checkUrl(config.tokenUrl, 'tokenUrl');
      return {
        issuer: tokenUrl.origin,
        token_endpoint: tokenUrl.href,
        ...(config.authorizationUrl && {
          authorization_endpoint: this.checkUrl(config.authorizationUrl, 'authorizationUrl').href,
        }),
      };
    }
    const issuer = this.checkUrl(config.issuer, 'issuer');
    const cached = this.discovered.get(issuer.href);
    let as: oauth.AuthorizationServer;
    if (cached && this.clock.now() - cached.at < this.options.discoveryTtlMs) {
      as = cached.as;
    } else {
      as = await this.call('discovery', async () => {
        const response = await oauth.discoveryRequest(issuer, this.requestOptions(issuer, signal));
        return oauth.processDiscoveryResponse(issuer, response);
      });
      this.discovered.set(issuer.href, { as, at: this.clock.now() });
    }
    // Explicit endpoints win over discovered ones (some providers publish incomplete metadata).
    const merged = { ...as };
    if (config.tokenUrl) merged.token_endpoint = config.tokenUrl;
    if (config.authorizationUrl) merged.authorization_endpoint = config.authorizationUrl;
    this.checkUrl(merged.token_endpoint, 'token endpoint');
    if (merged.authorization_endpoint) this.checkUrl(merged.authorization_endpoint, 'authorization endpoint');
    return merged;
  }

  async clientCredentials(config: OAuthServerConfig, clientSecret: string | undefined, signal?: AbortSignal) {
    const as = await this.server(config, signal);
    const params = new URLSearchParams(config.tokenParams ?? {});
    if (config.scopes?.length) params.set('scope', config.scopes.join(' '));
    return this.call('client credentials grant', async () => {
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        client(config),
        clientAuth(config, clientSecret),
        params,
        this.requestOptions(new URL(as.token_endpoint!), signal),
      );
      return this.tokenSet(await oauth.processClientCredentialsResponse(as, client(config), response));
    }, [clientSecret]);
  }

  /** The URL to send a user to, with PKCE (S256) and `state`. */
  async authorizationUrl(
    config: OAuthServerConfig,
    input: { redirectUri: string; state: string; codeVerifier: string },
    signal?: AbortSignal,
  ): Promise<URL> {
    const as = await this.server(config, signal);
    if (!as.authorization_endpoint) {
      throw new PatchbayError(
        ErrorCode.CONFIG_INVALID,
        `the authorization server ${as.issuer} has no authorization endpoint: set authorizationUrl`,
      );
    }
    const url = new URL(as.authorization_endpoint);
    for (const [name, value] of Object.entries(config.authorizationParams ?? {}))
      url.searchParams.set(name, value);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', input.redirectUri);
    if (config.scopes?.length) url.searchParams.set('scope', config.scopes.join(' '));
    url.searchParams.set('state', input.state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(input.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url;
  }

  /** Checks the callback (state, error) and exchanges the code, proving possession of the PKCE verifier. */
  async exchangeCode(
    config: OAuthServerConfig,
    clientSecret: string | undefined,
    input: { callback: URLSearchParams; state: string; redirectUri: string; codeVerifier: string },
    signal?: AbortSignal,
  ): Promise<TokenSet> {
    const as = await this.server(config, signal);
    return this.call('authorization code grant', async () => {
      const params = oauth.validateAuthResponse(as, client(config), input.callback, input.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client(config),
        clientAuth(config, clientSecret),
        params,
        input.redirectUri,
        input.codeVerifier,
        {
          ...this.requestOptions(new URL(as.token_endpoint!), signal),
          ...(config.tokenParams && { additionalParameters: config.tokenParams }),
        },
      );
      return this.tokenSet(await oauth.processAuthorizationCodeResponse(as, client(config), response));
    }, [clientSecret, input.codeVerifier, input.callback.get('code') ?? undefined]);
  }

  async refresh(
    config: OAuthServerConfig,
    clientSecret: string | undefined,
    refreshToken: string,
    signal?: AbortSignal,
  ): Promise<TokenSet> {
    const as = await this.server(config, signal);
    return this.call('refresh token grant', async () => {
      const response = await oauth.refreshTokenGrantRequest(
        as,
        client(config),
        clientAuth(config, clientSecret),
        refreshToken,
        {
          ...this.requestOptions(new URL(as.token_endpoint!), signal),
          ...(config.tokenParams && { additionalParameters: config.tokenParams }),
        },
      );
      return this.tokenSet(await oauth.processRefreshTokenResponse(as, client(config), response));
    }, [clientSecret, refreshToken]);
  }

  private tokenSet(response: oauth.TokenEndpointResponse): TokenSet {
    const expiresIn = typeof response.expires_in === 'number' ? response.expires_in : undefined;
    return {
      accessToken: response.access_token,
      tokenType: response.token_type,
      ...(typeof response.refresh_token === 'string' && { refreshToken: response.refresh_token }),
      expiresAt: expiresIn === undefined ? null : this.clock.now() + expiresIn * 1000,
      ...(typeof response.scope === 'string' && { scope: response.scope }),
    };
  }

  /** https always; http only on loopback and only when allowed; no address the SSRF rule blocks. */
  private checkUrl(value: string | undefined, what: string): URL {
    let url: URL;
    try {
      url = new URL(value ?? '');
    } catch {
      throw new PatchbayError(ErrorCode.CONFIG_INVALID, `${what} is missing or not a URL`);
    }
    if (url.protocol === 'https:') {
      this.egress.checkUrl(what, url);
      return url;
    }
    if (url.protocol === 'http:' && isLoopbackUrl(url)) {
      if (this.options.allowInsecureLoopback) return url;
      throw new PatchbayError(
        ErrorCode.INSECURE_URL,
        `${what} ${url.origin} is plain http; OAuth needs https (for a local test server on loopback, ` +
          'set vault.allowInsecureLoopback: true)',
      );
    }
    throw new PatchbayError(ErrorCode.INSECURE_URL, `${what} ${url.origin} must be https`);
  }

  private requestOptions(url: URL, signal: AbortSignal | undefined) {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    return {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      ...(url.protocol === 'http:' && { [oauth.allowInsecureRequests]: true }),
      [oauth.customFetch]: async (input: string, init: RequestInit) =>
        errorsAsErrors(
          this.fetchImpl
            ? await this.fetchImpl(input, init)
            : ((await undiciFetch(input, {
                ...(init as Parameters<typeof undiciFetch>[1]),
                dispatcher: this.egress.dispatcher,
              })) as unknown as Response),
        ),
    };
  }

  /** Runs one protocol step; the error's message is scrubbed of the secrets the step used. */
  private async call<T>(
    what: string,
    fn: () => Promise<T>,
    secrets: (string | undefined)[] = [],
  ): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const error = toPatchbayError(what, err);
      const known = secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
      const scrubbed = scrubSecrets(error.message, known);
      if (scrubbed === error.message) throw error;
      throw new PatchbayError(error.code, scrubbed, {
        ...(error.status !== undefined && { status: error.status }),
        ...(error.data !== undefined && { data: error.data }),
        ...(error.oauthError !== undefined && { oauthError: error.oauthError }),
      });
    }
  }
}

function toPatchbayError(what: string, err: unknown): PatchbayError {
  if (err instanceof PatchbayError) return err;
  // fetch wraps the connector's refusal as `TypeError: fetch failed` with the guard's error as its cause.
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof PatchbayError && GUARD_CODES.has(cause.code)) {
    return new PatchbayError(cause.code, `${what} refused: ${cause.message}`, {
      ...(cause.data !== undefined && { data: cause.data }),
    });
  }
  if (err instanceof oauth.ResponseBodyError) {
    const description = err.error_description ? `: ${truncateBody(err.error_description, 300)}` : '';
    return new PatchbayError(
      ErrorCode.OAUTH_ERROR,
      `${what} failed with ${err.error} (HTTP ${err.status})${description}`,
      {
        status: err.status,
        oauthError: err.error,
      },
    );
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    const description = err.error_description ? `: ${truncateBody(err.error_description, 300)}` : '';
    return new PatchbayError(
      ErrorCode.OAUTH_ERROR,
      `authorization was refused with ${err.error}${description}`,
      { oauthError: err.error },
    );
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    const challenge = err.cause[0];
    const code =
      typeof challenge?.parameters.error === 'string' ? challenge.parameters.error : 'invalid_client';
    return new PatchbayError(ErrorCode.OAUTH_ERROR, `${what} failed with ${code} (HTTP ${err.status})`, {
      status: err.status,
      oauthError: code,
    });
  }
  const name = (err as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new PatchbayError(ErrorCode.TIMEOUT, `${what} timed out or was aborted`, { cause: err });
  }
  if (err instanceof oauth.OperationProcessingError && isResponse(err.cause)) {
    // An answer that is neither tokens nor an OAuth error (a 5xx page, a gateway timeout): transient.
    return new PatchbayError(ErrorCode.OAUTH_ERROR, `${what} failed with HTTP ${err.cause.status}`, {
      cause: err,
      status: err.cause.status,
    });
  }
  if (err instanceof oauth.OperationProcessingError) {
    return new PatchbayError(ErrorCode.OAUTH_ERROR, `${what}: ${truncateBody(err.message, 300)}`, {
      cause: err,
      oauthError: 'invalid_response',
    });
  }
  return new PatchbayError(ErrorCode.NETWORK_ERROR, `${what} failed: ${errorMessage(err)}`, { cause: err });
}

/** undici's Response is not the global class: recognised by its tag, as oauth4webapi does. */
function isResponse(value: unknown): value is Response {
  return Object.prototype.toString.call(value) === '[object Response]';
}

const GUARD_CODES = new Set<string>([ErrorCode.SSRF_BLOCKED, ErrorCode.INSECURE_URL]);

function client(config: OAuthServerConfig): oauth.Client {
  return { client_id: config.clientId };
}

function clientAuth(config: OAuthServerConfig, secret: string | undefined): oauth.ClientAuth {
  switch (config.clientAuth ?? 'client_secret_basic') {
    case 'none':
      return oauth.None();
    case 'client_secret_post':
      return oauth.ClientSecretPost(requireSecret(secret));
    default:
      return oauth.ClientSecretBasic(requireSecret(secret));
  }
}

function requireSecret(secret: string | undefined): string {
  if (!secret)
    throw new PatchbayError(ErrorCode.CONFIG_INVALID, 'clientSecret is required by this clientAuth');
  return secret;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A token endpoint that answers an OAuth error with status 200 (GitHub does: `bad_verification_code`,
 * `incorrect_client_credentials`) is read as the error it is: the answer becomes a 400 with the same
 * body, so the caller sees the server's `error` rather than a missing `access_token`.
 * https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors
 */
async function errorsAsErrors(response: Response): Promise<Response> {
  if (response.status !== 200 || !/json/i.test(response.headers.get('content-type') ?? '')) return response;
  const text = await response.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return response;
  }
  const record = body as { error?: unknown; access_token?: unknown } | null;
  if (typeof record?.error !== 'string' || record.access_token !== undefined) return response;
  return new Response(text, { status: 400, headers: response.headers });
}
