import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isPatchbayError } from '../../src/core/errors.js';
import type { Database } from '../../src/store/database.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { columnContext, type StoredCredentials } from '../../src/vault/index.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';
import { type OidcServer, startOidcServer } from '../helpers/oidc-server.js';
import { openTestVault, type TestVault } from '../helpers/vault.js';

const REDIRECT = 'http://127.0.0.1:9/oauth/callback';

async function call(server: OidcServer, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.resourceUrl}/whoami`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`OAuth 2.0 against oidc-provider on ${dialect.name}`, () => {
    let server: OidcServer;
    let database: Database;
    let cleanup: () => Promise<void>;
    let clock: FakeClock;
    let t: TestVault;

    beforeAll(async () => {
      server = await startOidcServer({
        redirectUris: [REDIRECT],
        accessTokenTtl: 60,
        clientCredentialsTtl: 60,
      });
      ({ database, cleanup } = await migratedDatabase(dialect));
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });
    beforeEach(async () => {
      await database.db.deleteFrom('connections').execute();
      await database.db.deleteFrom('oauth_states').execute();
      await database.db.deleteFrom('encryption_keys').execute();
      clock = new FakeClock(Date.now());
      t = await openTestVault(database, { clock, settings: { refreshSkewMs: 5000 } });
      server.grants.length = 0;
      server.grantErrors.length = 0;
    });

    async function storedCredentials(id: string): Promise<StoredCredentials> {
      const row = await database.db
        .selectFrom('connections')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return t.vault.openJson(row.credentials!, columnContext('connections', id, 'credentials'));
    }

    async function authorizedConnection(id = 'crm'): Promise<void> {
      await t.connections.create({
        id,
        auth: {
          scheme: 'oauth2-authorization-code',
          issuer: server.issuer,
          clientId: server.clients.web.id,
          clientSecret: server.clients.web.secret,
          scopes: ['openid', 'offline_access'],
          authorizationParams: { prompt: 'consent' },
        },
      });
      const started = await t.authorization.start(id, { redirectUri: REDIRECT });
      const callback = await server.authorize(started.url);
      await t.authorization.complete(callback);
    }

    it('client credentials: fetches a token once, caches it, and fetches the next shortly before expiry', async () => {
      await t.connections.create({
        id: 'graph',
        auth: {
          scheme: 'oauth2-client-credentials',
          issuer: server.issuer,
          clientId: server.clients.service.id,
          clientSecret: server.clients.service.secret,
          scopes: ['api:read'],
        },
      });
      const auth = await t.resolver.authProvider('graph');
      const first = await auth.authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} });
      expect(first.headers?.authorization).toMatch(/^Bearer .+/);
      expect((await call(server, first.headers)).status).toBe(200);
      for (let i = 0; i < 10; i++)
        await auth.authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} });
      expect(server.grants.map((g) => g.grantType)).toEqual(['client_credentials']);
      await clock.advance(54_000); // 6 s before expiry, past the 5 s skew? not yet: 60 - 54 = 6 > 5
      await auth.authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} });
      expect(server.grants).toHaveLength(1);
      await clock.advance(1_500); // 4.5 s before expiry: inside the skew
      const next = await auth.authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} });
      expect(server.grants.map((g) => g.grantType)).toEqual(['client_credentials', 'client_credentials']);
      expect(next.headers?.authorization).not.toBe(first.headers?.authorization);
      expect((await call(server, next.headers)).status).toBe(200);
      expect((await t.connections.require('graph')).status).toBe('active');
    });

    it('client credentials: a wrong secret marks the connection needs_reauth and publishes it once', async () => {
      await t.connections.create({
        id: 'graph',
        auth: {
          scheme: 'oauth2-client-credentials',
          issuer: server.issuer,
          clientId: server.clients.service.id,
          clientSecret: 'not-the-secret',
        },
      });
      const auth = await t.resolver.authProvider('graph');
      const error = await auth
        .authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} })
        .catch((e) => e);
      expect(isPatchbayError(error, ErrorCode.NEEDS_REAUTH)).toBe(true);
      expect(error.message).toContain('invalid_client');
      const connection = await t.connections.require('graph');
      expect(connection.status).toBe('needs_reauth');
      expect(connection.statusReason).toMatch(/invalid_client/);
      await expect(
        auth.authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} }),
      ).rejects.toThrow(/needs re-authorization/);
      expect(t.publisher.types()).toEqual(['connection.needs_reauth']);
      // Fixing the secret recovers it.
      await t.connections.update('graph', { auth: { clientSecret: server.clients.service.secret } });
      const ok = await auth.authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} });
      expect((await call(server, ok.headers)).status).toBe(200);
      expect(t.publisher.types()).toEqual(['connection.needs_reauth', 'connection.recovered']);
    });

    it('authorization code + PKCE: the test signs in and consents over HTTP, and the tokens land encrypted', async () => {
      await t.connections.create({
        id: 'crm',
        auth: {
          scheme: 'oauth2-authorization-code',
          issuer: server.issuer,
          clientId: server.clients.web.id,
          clientSecret: server.clients.web.secret,
          scopes: ['openid', 'offline_access'],
          authorizationParams: { prompt: 'consent' },
        },
      });
      expect((await t.connections.require('crm')).status).toBe('needs_reauth');
      const started = await t.authorization.start('crm', { redirectUri: REDIRECT });
      const url = new URL(started.url);
      expect(url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const callback = await server.authorize(started.url);
      expect(callback.get('code')).toBeTruthy();
      const { connection } = await t.authorization.complete(callback);
      expect(connection.status).toBe('active');
      expect(server.grants.map((g) => g.grantType)).toEqual(['authorization_code']);
      const stored = await storedCredentials('crm');
      expect(stored.refreshToken).toBeTruthy();
      const auth = await t.resolver.authProvider('crm');
      const headers = (await auth.authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} }))
        .headers!;
      expect((await call(server, headers)).body.client).toBe(server.clients.web.id);
      // A first authorization is not a recovery.
      expect(t.publisher.types()).toEqual([]);
      // The same callback cannot be redeemed twice (state is single use).
      await expect(t.authorization.complete(callback)).rejects.toThrow(/unknown or already used state/);
    });

    it('rejects a callback with a forged state or an error from the provider', async () => {
      await authorizedConnection();
      const forged = new URLSearchParams({ code: 'x', state: 'forged-state-value' });
      await expect(t.authorization.complete(forged)).rejects.toThrow(/unknown or already used state/);
      const started = await t.authorization.start('crm', { redirectUri: REDIRECT });
      const state = new URL(started.url).searchParams.get('state')!;
      const denied = new URLSearchParams({
        error: 'access_denied',
        error_description: 'user said no',
        state,
        iss: server.issuer,
      });
      const error = await t.authorization.complete(denied).catch((e) => e);
      expect(isPatchbayError(error, ErrorCode.OAUTH_ERROR)).toBe(true);
      expect(error.message).toMatch(/access_denied/);
      await expect(t.authorization.complete(new URLSearchParams({ code: 'x' }))).rejects.toThrow(/no state/);
    });

    it('refreshes with rotation: the new refresh token is stored before use and the old one is dead', async () => {
      await authorizedConnection();
      const auth = await t.resolver.authProvider('crm');
      const before = await storedCredentials('crm');
      const req = { method: 'GET', url: new URL(server.resourceUrl), headers: {} };
      await auth.authorize(req);
      await clock.advance(56_000); // inside the 5 s skew of a 60 s token
      const fresh = await auth.authorize(req);
      expect(server.grants.map((g) => g.grantType)).toEqual(['authorization_code', 'refresh_token']);
      const after = await storedCredentials('crm');
      expect(after.refreshToken).toBeTruthy();
      expect(after.refreshToken).not.toBe(before.refreshToken);
      expect(fresh.headers?.authorization).toBe(`Bearer ${after.accessToken}`);
      expect((await call(server, fresh.headers)).status).toBe(200);
      // The provider invalidated the old refresh token when it rotated.
      const replay = await fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${server.clients.web.id}:${server.clients.web.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: before.refreshToken!,
        }).toString(),
      });
      expect(replay.status).toBe(400);
      expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');
    });

    it('a 401 forces one refresh shared by every concurrent caller, then one retry succeeds', async () => {
      await authorizedConnection();
      const req = { method: 'GET', url: new URL(server.resourceUrl), headers: {} };
      const providers = await Promise.all(Array.from({ length: 20 }, () => t.resolver.authProvider('crm')));
      const tokens = await Promise.all(providers.map((p) => p.authorize(req)));
      // The provider forgets the access token, so the next call is a 401.
      await server.forgetAccessToken((await storedCredentials('crm')).accessToken);
      expect((await call(server, tokens[0]!.headers)).status).toBe(401);
      const retried = await Promise.all(providers.map((p) => p.onUnauthorized!()));
      expect(retried.every(Boolean)).toBe(true);
      expect(server.grants.map((g) => g.grantType)).toEqual(['authorization_code', 'refresh_token']);
      const again = await providers[5]!.authorize(req);
      expect((await call(server, again.headers)).status).toBe(200);
      // A late 401 from a request made with the old token does not refresh again.
      expect(await providers[0]!.onUnauthorized!()).toBe(true);
      expect(server.grants).toHaveLength(2);
    });

    it('a revoked refresh token marks the connection needs_reauth, publishes it, and re-authorizing recovers', async () => {
      await authorizedConnection();
      const auth = await t.resolver.authProvider('crm');
      const req = { method: 'GET', url: new URL(server.resourceUrl), headers: {} };
      await auth.authorize(req);
      await server.revoke((await storedCredentials('crm')).refreshToken!);
      const error = await auth.onUnauthorized!().catch((e) => e);
      expect(isPatchbayError(error, ErrorCode.NEEDS_REAUTH)).toBe(true);
      expect(server.grantErrors.map((e) => e.error)).toEqual(['invalid_grant']);
      const connection = await t.connections.require('crm');
      expect(connection.status).toBe('needs_reauth');
      expect(connection.statusReason).toBe('the provider refused the refresh token (invalid_grant)');
      expect(t.publisher.events).toEqual([
        expect.objectContaining({
          type: 'connection.needs_reauth',
          payload: { connectionId: 'crm', provider: 'custom', reason: connection.statusReason },
        }),
      ]);
      // No further refresh attempts while it needs re-authorization.
      await expect(auth.authorize(req)).rejects.toThrow(/needs re-authorization/);
      expect(server.grantErrors).toHaveLength(1);
      const started = await t.authorization.start('crm', { redirectUri: REDIRECT });
      await t.authorization.complete(await server.authorize(started.url));
      expect((await t.connections.require('crm')).status).toBe('active');
      expect(t.publisher.types()).toEqual(['connection.needs_reauth', 'connection.recovered']);
      const ok = await auth.authorize(req);
      expect((await call(server, ok.headers)).status).toBe(200);
    });

    it('refuses plain-http token endpoints unless loopback testing is allowed, and never off loopback', async () => {
      const strict = await openTestVault(database, {
        key: t.key,
        settings: { allowInsecureLoopback: false },
      });
      // Refused when it is made: the SSRF rule blocks loopback unless the setting opens it.
      const error = await strict.connections
        .create({
          id: 'strict',
          auth: {
            scheme: 'oauth2-client-credentials',
            issuer: server.issuer,
            clientId: server.clients.service.id,
            clientSecret: server.clients.service.secret,
          },
        })
        .catch((e) => e);
      expect(isPatchbayError(error, ErrorCode.SSRF_BLOCKED)).toBe(true);
      expect(error.message).toMatch(/^auth\.issuer 127\.0\.0\.1 is blocked: loopback.*allowInsecureLoopback/);
      await t.connections.create({
        id: 'remote',
        auth: {
          scheme: 'oauth2-client-credentials',
          tokenUrl: 'http://oauth.example.com/token',
          clientId: 'x',
          clientSecret: 'y',
        },
      });
      const remote = await (await t.resolver.authProvider('remote'))
        .authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} })
        .catch((e) => e);
      expect(isPatchbayError(remote, ErrorCode.INSECURE_URL)).toBe(true);
      expect(remote.message).toBe('tokenUrl http://oauth.example.com must be https');
    });
  });
}
