import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OAuth 2.0 / OpenID Connect server (oidc-provider 9) on 127.0.0.1 with short token lifetimes,
 * plus a protected API that accepts only its live access tokens. Tests drive the browser steps (login,
 * consent) over HTTP, and count the grants the server issued.
 */
export interface OidcServerOptions {
  /** Access token lifetime (authorization code and refresh), in seconds. Defaults to 60. */
  accessTokenTtl?: number;
  /** Client credentials token lifetime, in seconds. Defaults to 60. */
  clientCredentialsTtl?: number;
  /** Redirect URIs registered for the web client. */
  redirectUris: string[];
}

export interface GrantRecord {
  grantType: string;
  clientId: string;
  at: number;
  /** Lifetime end of the access token issued (ms). */
  accessTokenExp?: number;
}

export interface OidcServer {
  issuer: string;
  /** Protected API: `GET {resourceUrl}/whoami` answers 200 with a live token, 401 otherwise. */
  resourceUrl: string;
  provider: Provider;
  grants: GrantRecord[];
  grantErrors: { grantType: string; error: string; at: number }[];
  /** Requests to the protected API by outcome. */
  resourceCalls: { ok: number; unauthorized: number };
  clients: {
    service: { id: string; secret: string };
    web: { id: string; secret: string };
  };
  /** Follows an authorization URL through login and consent; returns the callback's query. */
  authorize(authorizationUrl: string, account?: string): Promise<URLSearchParams>;
  /** Revokes a token through the standard revocation endpoint (revoking either token revokes the grant's tokens). */
  revoke(token: string): Promise<void>;
  /** Makes the server forget one access token only (as if it expired early), keeping its grant. */
  forgetAccessToken(token: string): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** One RSA key for ID tokens, made once per test process (2048-bit generation takes a moment). */
const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  use: 'sig',
  alg: 'RS256',
};

export async function startOidcServer(options: OidcServerOptions): Promise<OidcServer> {
  const httpServer = createServer();
  const port = await listen(httpServer);
  const issuer = `http://127.0.0.1:${port}`;
  const clients = {
    service: { id: 'service-client', secret: 'service-secret-Qm9rZ3V5cXh6LXNlcnZpY2U' },
    web: { id: 'web-client', secret: 'web-secret-d2ViLWNsaWVudC1zZWNyZXQtdmFsdWU' },
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clients.service.id,
        client_secret: clients.service.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'api:read',
      },
      {
        client_id: clients.web.id,
        client_secret: clients.web.secret,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: options.redirectUris,
      },
    ],
    scopes: ['openid', 'offline_access', 'api:read'],
    features: {
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      devInteractions: { enabled: true },
    },
    pkce: { required: () => true },
    // A refresh token is single use: using it twice revokes the whole grant (oidc-provider's reuse detection).
    rotateRefreshToken: true,
    ttl: {
      AccessToken: options.accessTokenTtl ?? 60,
      ClientCredentials: options.clientCredentialsTtl ?? 60,
      AuthorizationCode: 60,
      RefreshToken: 24 * 3600,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 24 * 3600,
    },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    jwks: { keys: [signingKey] },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
  });
  const grants: GrantRecord[] = [];
  const grantErrors: OidcServer['grantErrors'] = [];
  provider.on('grant.success', (ctx) => {
    const record: GrantRecord = {
      grantType: String(ctx.oidc.params?.grant_type),
      clientId: ctx.oidc.client?.clientId ?? '',
      at: Date.now(),
    };
    grants.push(record);
    // The issued token's own expiry (whole seconds since the epoch), as the server will enforce it.
    const value = (ctx as unknown as { body?: { access_token?: string } }).body?.access_token;
    if (value) {
      void Promise.all([provider.AccessToken.find(value), provider.ClientCredentials.find(value)]).then(
        ([at, cc]) => {
          const exp = (at ?? cc)?.exp;
          if (exp !== undefined) record.accessTokenExp = exp * 1000;
        },
      );
    }
  });
  provider.on('grant.error', (ctx, error) => {
    grantErrors.push({
      grantType: String(ctx.oidc.params?.grant_type),
      error: (error as { error?: string }).error ?? String(error),
      at: Date.now(),
    });
  });
  // Silence the provider's own error logging of expected failures (invalid_grant in tests).
  provider.on('server_error', () => {});
  httpServer.on('request', provider.callback());

  const resourceCalls = { ok: 0, unauthorized: 0 };
  const resource = createServer(async (req, res) => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const value = match?.[1];
    const token = value
      ? ((await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value)))
      : undefined;
    if (!token || token.isExpired) {
      resourceCalls.unauthorized++;
      res.writeHead(401, {
        'www-authenticate': 'Bearer error="invalid_token"',
        'content-type': 'application/json',
      });
      res.end('{"error":"invalid_token"}');
      return;
    }
    resourceCalls.ok++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ client: token.clientId, grant: token.grantId ?? null, jti: token.jti }));
  });
  const resourcePort = await listen(resource);

  async function authorize(authorizationUrl: string, account = 'alice'): Promise<URLSearchParams> {
    const cookies = new Map<string, string>();
    const redirectPrefixes = options.redirectUris.map((r) => new URL(r).href);
    let url = authorizationUrl;
    let method = 'GET';
    let body: string | undefined;
    for (let step = 0; step < 20; step++) {
      const res = await fetch(url, {
        method,
        redirect: 'manual',
        headers: {
          cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(body && { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(body && { body }),
      });
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
      }
      method = 'GET';
      body = undefined;
      if (res.status >= 300 && res.status < 400) {
        await res.arrayBuffer();
        const location = new URL(res.headers.get('location')!, url).href;
        if (redirectPrefixes.some((r) => location.startsWith(r))) return new URL(location).searchParams;
        url = location;
        continue;
      }
      const html = await res.text();
      if (res.status !== 200)
        throw new Error(`authorization step ${url} answered ${res.status}: ${html.slice(0, 300)}`);
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
      if (!action || !prompt) throw new Error(`no form on ${url}: ${html.slice(0, 300)}`);
      url = new URL(action.replace(/&amp;/g, '&'), url).href;
      method = 'POST';
      body =
        prompt === 'login'
          ? new URLSearchParams({ prompt, login: account, password: 'any' }).toString()
          : new URLSearchParams({ prompt }).toString();
    }
    throw new Error('authorization did not reach the redirect URI in 20 steps');
  }

  async function revoke(token: string): Promise<void> {
    const res = await fetch(`${issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clients.web.id}:${clients.web.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }).toString(),
    });
    if (res.status !== 200) throw new Error(`revocation answered ${res.status}`);
  }

  async function forgetAccessToken(token: string): Promise<void> {
    // Tokens of the client credentials grant live in their own model.
    const found = (await provider.AccessToken.find(token)) ?? (await provider.ClientCredentials.find(token));
    if (!found) throw new Error('no such access token');
    await found.destroy();
  }

  return {
    issuer,
    forgetAccessToken,
    resourceUrl: `http://127.0.0.1:${resourcePort}`,
    provider,
    grants,
    grantErrors,
    resourceCalls,
    clients,
    authorize,
    revoke,
    async close() {
      httpServer.closeAllConnections();
      resource.closeAllConnections();
      await Promise.all([new Promise((r) => httpServer.close(r)), new Promise((r) => resource.close(r))]);
    },
  };
}
