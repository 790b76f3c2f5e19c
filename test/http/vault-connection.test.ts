import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../src/http/index.js';
import { columnContext, type StoredCredentials } from '../../src/vault/index.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { type OidcServer, startOidcServer } from '../helpers/oidc-server.js';

/**
 * `createHttpClient({ connection, connections: engine.vault.resolver })` end to end: credentials come from
 * the engine's vault, and an access token the provider no longer accepts (401) is refreshed once, with one
 * retry, against a real OAuth server.
 */
describe('HTTP client with a vault connection', () => {
  let server: OidcServer;
  let t: TestEngine;

  beforeAll(async () => {
    server = await startOidcServer({ redirectUris: ['http://127.0.0.1:9/oauth/callback'] });
    t = await openTestEngine(dialects[0]!, {
      // Tokens live 60 s here; the default 60 s skew would refresh before every call.
      vault: { allowInsecureLoopback: true, refreshSkew: '5s' },
      connections: [
        {
          id: 'api',
          provider: 'custom',
          baseUrl: server.resourceUrl,
          auth: {
            scheme: 'oauth2-client-credentials',
            issuer: server.issuer,
            clientId: server.clients.service.id,
            clientSecret: server.clients.service.secret,
            scopes: ['api:read'],
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await t?.close();
    await server?.close();
  });

  it('calls with the connection’s token, and after a 401 refreshes once and retries once', async () => {
    const client = createHttpClient({
      baseUrl: server.resourceUrl,
      connection: 'api',
      connections: t.engine.vault.resolver,
      allowInsecureHttp: true,
      retry: false,
    });
    const first = await client.request({ method: 'GET', path: '/whoami' });
    expect(first.status).toBe(200);
    expect(server.grants.map((g) => g.grantType)).toEqual(['client_credentials']);

    // The provider forgets the live token (revoked, rotated out): the next call gets a 401.
    const row = await t.db.db
      .selectFrom('connections')
      .select('credentials')
      .where('id', '=', 'api')
      .executeTakeFirstOrThrow();
    const stored = await t.engine.vault.vault.openJson<StoredCredentials>(
      row.credentials!,
      columnContext('connections', 'api', 'credentials'),
    );
    await server.forgetAccessToken(stored.accessToken!);
    const unauthorizedBefore = server.resourceCalls.unauthorized;

    const second = await client.request({ method: 'GET', path: '/whoami' });
    expect(second.status).toBe(200);
    expect(server.resourceCalls.unauthorized - unauthorizedBefore).toBe(1);
    expect(server.grants.map((g) => g.grantType)).toEqual(['client_credentials', 'client_credentials']);
    expect((await t.engine.vault.connections.require('api')).status).toBe('active');
    expect(t.logs.text).not.toContain(server.clients.service.secret);
  });
});
