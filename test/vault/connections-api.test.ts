import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { type OidcServer, startOidcServer } from '../helpers/oidc-server.js';

const TOKEN = 'connections-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
/** The callback URL as the admin API computes it under `app.inject` (host localhost:80). */
const CALLBACK = 'http://localhost:80/oauth/callback';
const MASK = '••••••••';

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`connections API on ${dialect.name}`, () => {
    let t: TestEngine;
    let server: OidcServer;
    beforeAll(async () => {
      server = await startOidcServer({ redirectUris: [CALLBACK] });
      t = await openTestEngine(dialect, {
        server: { adminToken: TOKEN },
        vault: { allowInsecureLoopback: true },
      });
    });
    afterAll(async () => {
      await t?.close();
      await server?.close();
    });
    beforeEach(async () => {
      await t.db.db.deleteFrom('connections').execute();
    });

    const post = (payload: unknown) =>
      t.app.inject({ method: 'POST', url: '/api/v1/connections', headers: auth, payload: payload as object });

    it('creates the issue example, shows it masked, patches, and deletes it', async () => {
      const created = await post({
        id: 'crm',
        provider: 'custom',
        baseUrl: 'https://api.example.com',
        auth: { scheme: 'bearer', token: 'crm-token-7f3a9c1e5b' },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        id: 'crm',
        provider: 'custom',
        baseUrl: 'https://api.example.com',
        auth: { scheme: 'bearer', token: MASK },
        status: 'active',
        statusReason: null,
        origin: 'api',
      });
      expect(created.body).not.toContain('crm-token-7f3a9c1e5b');
      const listed = await t.app.inject({ url: '/api/v1/connections', headers: auth });
      expect(listed.json().data.map((c: { id: string }) => c.id)).toEqual(['crm']);
      const patched = await t.app.inject({
        method: 'PATCH',
        url: '/api/v1/connections/crm',
        headers: auth,
        payload: { baseUrl: 'https://api2.example.com', metadata: { team: 'sales' }, auth: { token: MASK } },
      });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toMatchObject({
        baseUrl: 'https://api2.example.com',
        metadata: { team: 'sales' },
      });
      // The masked value kept the secret.
      expect((await t.engine.vault.connections.load('crm')).secrets.token).toBe('crm-token-7f3a9c1e5b');
      await t.app.inject({
        method: 'PATCH',
        url: '/api/v1/connections/crm',
        headers: auth,
        payload: { auth: { scheme: 'api-key', key: 'new-key-2b8e', in: 'query', name: 'hapikey' } },
      });
      const shown = await t.app.inject({ url: '/api/v1/connections/crm', headers: auth });
      expect(shown.json().auth).toEqual({ scheme: 'api-key', key: MASK, in: 'query', name: 'hapikey' });
      const deleted = await t.app.inject({ method: 'DELETE', url: '/api/v1/connections/crm', headers: auth });
      expect(deleted.statusCode).toBe(204);
      const gone = await t.app.inject({ url: '/api/v1/connections/crm', headers: auth });
      expect(gone.statusCode).toBe(404);
      expect(gone.json().error).toMatchObject({ code: 'NOT_FOUND', message: 'no connection crm' });
    });

    it('rejects bad input with a 400 naming each field, never echoing a secret', async () => {
      const secret = 'leaky-secret-value-91c2';
      const cases: [unknown, string][] = [
        [{ id: 'a', auth: { scheme: 'bearer' } }, 'auth.token: is required'],
        [
          { id: 'a', auth: { scheme: 'beerer', token: secret } },
          'auth.scheme: must be one of "bearer", "api-key"',
        ],
        [{ id: 'a b', auth: { scheme: 'bearer', token: secret } }, 'id: must be 1–64 letters'],
        [
          { id: 'a', baseUrl: secret, auth: { scheme: 'bearer', token: secret } },
          'baseUrl: must be an absolute http(s) URL',
        ],
        [{ id: 'a', auth: { scheme: 'bearer', token: secret, tokn: 1 } }, 'auth: unknown field "tokn"'],
        [
          { id: 'a', auth: { scheme: 'oauth2-client-credentials', clientId: 'c', clientSecret: secret } },
          'auth.tokenUrl: set tokenUrl or issuer',
        ],
        [
          { id: 'a', auth: { scheme: 'basic', username: 'a:b', password: secret } },
          'auth.username: must not contain ":"',
        ],
      ];
      for (const [payload, message] of cases) {
        const res = await post(payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json().error.code).toBe('INVALID_ARGUMENT');
        expect(res.json().error.message).toContain(message);
        expect(res.body).not.toContain(secret);
      }
      await post({ id: 'dup', auth: { scheme: 'bearer', token: 'x-token-1' } });
      const dup = await post({ id: 'dup', auth: { scheme: 'bearer', token: 'x-token-2' } });
      expect(dup.statusCode).toBe(409);
      const unknownStatus = await t.app.inject({ url: '/api/v1/connections?status=broken', headers: auth });
      expect(unknownStatus.statusCode).toBe(400);
      const noAuth = await t.app.inject({ url: '/api/v1/connections' });
      expect(noAuth.statusCode).toBe(401);
    });

    it('pages through connections with a cursor', async () => {
      for (let i = 0; i < 5; i++)
        await post({ id: `c${i}`, auth: { scheme: 'bearer', token: `tok-${i}-abcdef` } });
      const first = await t.app.inject({ url: '/api/v1/connections?limit=2', headers: auth });
      expect(first.json().data.map((c: { id: string }) => c.id)).toEqual(['c0', 'c1']);
      const rest = await t.app.inject({
        url: `/api/v1/connections?limit=10&cursor=${first.json().nextCursor}`,
        headers: auth,
      });
      expect(rest.json().data.map((c: { id: string }) => c.id)).toEqual(['c2', 'c3', 'c4']);
      expect(rest.json().nextCursor).toBeUndefined();
    });

    it('authorizes an OAuth connection: /authorize → provider login and consent → /oauth/callback', async () => {
      const created = await post({
        id: 'crm',
        baseUrl: server.resourceUrl,
        auth: {
          scheme: 'oauth2-authorization-code',
          issuer: server.issuer,
          clientId: server.clients.web.id,
          clientSecret: server.clients.web.secret,
          scopes: ['openid', 'offline_access'],
          authorizationParams: { prompt: 'consent' },
        },
      });
      expect(created.json()).toMatchObject({
        status: 'needs_reauth',
        statusReason: 'not authorized yet: open the link from GET /api/v1/connections/crm/authorize',
        auth: { clientSecret: MASK },
        credentials: { accessToken: null, version: 0 },
      });
      const started = await t.app.inject({ url: '/api/v1/connections/crm/authorize', headers: auth });
      expect(started.statusCode).toBe(200);
      expect(started.json().redirectUri).toBe(CALLBACK);
      const callback = await server.authorize(started.json().url);
      const landed = await t.app.inject({ url: `/oauth/callback?${callback}` });
      expect(landed.statusCode).toBe(200);
      expect(landed.headers['content-type']).toMatch(/text\/html/);
      expect(landed.body).toContain('Connection crm is authorized');
      const shown = (await t.app.inject({ url: '/api/v1/connections/crm', headers: auth })).json();
      expect(shown).toMatchObject({ status: 'active', credentials: { accessToken: MASK, version: 1 } });
      const replay = await t.app.inject({ url: `/oauth/callback?${callback}` });
      expect(replay.statusCode).toBe(400);
      expect(replay.body).toContain('unknown or already used state');
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/connections/crm/refresh',
        headers: { ...auth, 'content-type': 'application/json' },
      });
      expect(refreshed.json().credentials.version).toBe(2);
      const metrics = await t.app.inject({ url: '/metrics' });
      expect(metrics.body).toContain(
        'patchbay_oauth_token_requests_total{connection="crm",grant="refresh_token",outcome="ok"} 1',
      );
      // With returnTo, the callback sends the browser on, and redirect=true sends it to the provider directly.
      const redirect = await t.app.inject({
        url: '/api/v1/connections/crm/authorize?redirect=true&returnTo=https://app.example.com/done',
        headers: auth,
      });
      expect(redirect.statusCode).toBe(302);
      const back = await t.app.inject({
        url: `/oauth/callback?${await server.authorize(redirect.headers.location!)}`,
      });
      expect(back.statusCode).toBe(302);
      expect(back.headers.location).toBe('https://app.example.com/done?connection=crm&status=active');
    });

    it('a refused refresh shows needs_reauth with the reason and publishes connection.needs_reauth to the event log', async () => {
      await post({
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
      const started = await t.app.inject({ url: '/api/v1/connections/crm/authorize', headers: auth });
      await t.app.inject({ url: `/oauth/callback?${await server.authorize(started.json().url)}` });
      const state = await t.engine.vault.connections.load('crm');
      await server.revoke(state.credentials!.refreshToken!);
      const refused = await t.app.inject({
        method: 'POST',
        url: '/api/v1/connections/crm/refresh',
        headers: { ...auth, 'content-type': 'application/json' },
      });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error).toMatchObject({
        code: 'NEEDS_REAUTH',
        message:
          'connection crm needs re-authorization: the provider refused the refresh token (invalid_grant)',
      });
      const listed = await t.app.inject({ url: '/api/v1/connections?status=needs_reauth', headers: auth });
      expect(listed.json().data).toMatchObject([
        { id: 'crm', statusReason: 'the provider refused the refresh token (invalid_grant)' },
      ]);
      const events = await t.app.inject({ url: '/api/v1/events?source=patchbay', headers: auth });
      const types = events.json().data.map((e: { type: string }) => e.type);
      expect(types).toContain('connection.needs_reauth');
    });

    it('a static connection has nothing to refresh, and an unknown one is a 404', async () => {
      await post({ id: 'plain', auth: { scheme: 'basic', username: 'u', password: 'p-secret-1' } });
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/connections/plain/refresh',
        headers: { ...auth, 'content-type': 'application/json' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toBe('connection plain uses basic: nothing to refresh');
      const unknown = await t.app.inject({ url: '/api/v1/connections/nope/authorize', headers: auth });
      expect(unknown.statusCode).toBe(404);
      const wrongScheme = await t.app.inject({ url: '/api/v1/connections/plain/authorize', headers: auth });
      expect(wrongScheme.statusCode).toBe(400);
    });
  });
}
