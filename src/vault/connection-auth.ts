import { ErrorCode, PatchbayError } from '../core/errors.js';
import type {
  Authorization,
  AuthProvider,
  AuthRequest,
  ConnectionAuthResolver,
} from '../http/auth-provider.js';
import type { ConnectionService, ConnectionState } from './connection-service.js';
import type { TokenRefreshManager } from './token-refresh.js';

/**
 * The HTTP client's view of one connection: the headers or query parameters for each attempt, a forced
 * refresh after a 401, and the secret values to scrub from logs.
 *
 * It remembers the credential version it last handed out, so a 401 triggers a refresh only if nobody
 * refreshed since; many requests failing together with the same expired token cause one refresh.
 */
export class ConnectionAuthProvider implements AuthProvider {
  private lastVersion: number | undefined;
  private lastState: ConnectionState | undefined;

  constructor(
    readonly connectionId: string,
    private readonly refresh: TokenRefreshManager,
  ) {}

  async authorize(_request: AuthRequest, signal?: AbortSignal): Promise<Authorization> {
    const state = await this.refresh.current(this.connectionId, signal);
    this.lastVersion = state.connection.version;
    this.lastState = state;
    return authorizationFor(state);
  }

  async onUnauthorized(signal?: AbortSignal): Promise<boolean> {
    const seen =
      this.lastVersion ?? (await this.refresh.current(this.connectionId, signal)).connection.version;
    return this.refresh.forceRefresh(this.connectionId, seen, signal);
  }

  secrets(): readonly string[] {
    const state = this.lastState;
    if (!state) return [];
    const values = [...Object.values(state.secrets)];
    if (state.credentials?.accessToken) values.push(state.credentials.accessToken);
    if (state.credentials?.refreshToken) values.push(state.credentials.refreshToken);
    const basic = basicValue(state);
    if (basic) values.push(basic);
    return values.filter((v) => v.length > 0);
  }
}

function basicValue(state: ConnectionState): string | undefined {
  const { settings } = state.connection;
  if (state.connection.scheme !== 'basic') return undefined;
  return Buffer.from(`${String(settings.username)}:${state.secrets.password ?? ''}`).toString('base64');
}

/** The headers or query parameters a connection's scheme puts on a request. */
export function authorizationFor(state: ConnectionState): Authorization {
  const { connection, secrets, credentials } = state;
  const settings = connection.settings;
  switch (connection.scheme) {
    case 'bearer': {
      const header = String(settings.header ?? 'authorization').toLowerCase();
      const prefix =
        typeof settings.prefix === 'string' ? settings.prefix : header === 'authorization' ? 'Bearer ' : '';
      return { headers: { [header]: `${prefix}${secrets.token}` } };
    }
    case 'api-key': {
      if (settings.in === 'query') return { query: { [String(settings.name ?? 'api_key')]: secrets.key! } };
      const prefix = typeof settings.prefix === 'string' ? settings.prefix : '';
      return { headers: { [String(settings.name ?? 'x-api-key').toLowerCase()]: `${prefix}${secrets.key}` } };
    }
    case 'basic':
      return { headers: { authorization: `Basic ${basicValue(state)}` } };
    default: {
      if (!credentials || credentials.accessToken === '') {
        throw new PatchbayError(ErrorCode.NEEDS_REAUTH, `connection ${connection.id} has no access token`, {
          data: { connectionId: connection.id },
        });
      }
      // RFC 6750 names the scheme "Bearer"; some servers answer `token_type: "bearer"` and reject lower case.
      const type = credentials.tokenType.toLowerCase() === 'bearer' ? 'Bearer' : credentials.tokenType;
      return { headers: { authorization: `${type} ${credentials.accessToken}` } };
    }
  }
}

/**
 * `createHttpClient({ connection: 'crm', connections })`: finds a connection's auth provider. Unknown ids
 * fail with `NOT_FOUND` when the provider is asked for, so a typo fails at client creation.
 */
export class VaultAuthResolver implements ConnectionAuthResolver {
  constructor(
    private readonly connections: ConnectionService,
    private readonly refresh: TokenRefreshManager,
  ) {}

  async authProvider(connectionId: string): Promise<ConnectionAuthProvider> {
    await this.connections.require(connectionId);
    return new ConnectionAuthProvider(connectionId, this.refresh);
  }

  /** The base URL configured for a connection (for clients built from a connection alone). */
  async baseUrl(connectionId: string): Promise<string | null> {
    return (await this.connections.require(connectionId)).baseUrl;
  }
}
