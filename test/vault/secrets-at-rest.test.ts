import { existsSync, readFileSync } from 'node:fs';
import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { type OidcServer, startOidcServer } from '../helpers/oidc-server.js';
import { secretValue } from '../helpers/vault.js';

const TOKEN = 'at-rest-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const CALLBACK = 'http://localhost:80/oauth/callback';

/** Every text form a secret could leak in: as is, and base64 of it (as in a Basic header). */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64')];
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`no secret in plaintext anywhere on ${dialect.name}`, () => {
    let t: TestEngine;
    let server: OidcServer;
    const secrets: string[] = [];
    const responses: string[] = [];

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

    async function inject(options: InjectOptions) {
      const res = await t.app.inject(options);
      responses.push(res.body, JSON.stringify(res.headers));
      return res;
    }

    it('stores, logs and answers only ciphertext and masks, for every scheme and every token', async () => {
      const bearer = secretValue('bearer');
      const apiKey = secretValue('apikey');
      const password = secretValue('password');
      const importedRefresh = secretValue('imported-refresh');
      secrets.push(
        bearer,
        apiKey,
        password,
        importedRefresh,
        server.clients.service.secret,
        server.clients.web.secret,
      );
      const definitions = [
        {
          id: 'crm',
          provider: 'custom',
          baseUrl: 'https://api.example.com',
          auth: { scheme: 'bearer', token: bearer },
        },
        { id: 'keyed', auth: { scheme: 'api-key', key: apiKey, in: 'query', name: 'api_key' } },
        { id: 'basic', auth: { scheme: 'basic', username: 'svc', password } },
        {
          id: 'graph',
          auth: {
            scheme: 'oauth2-client-credentials',
            issuer: server.issuer,
            clientId: server.clients.service.id,
            clientSecret: server.clients.service.secret,
            scopes: ['api:read'],
          },
        },
        {
          id: 'hub',
          auth: {
            scheme: 'oauth2-authorization-code',
            issuer: server.issuer,
            clientId: server.clients.web.id,
            clientSecret: server.clients.web.secret,
            scopes: ['openid', 'offline_access'],
            authorizationParams: { prompt: 'consent' },
          },
        },
        {
          id: 'imported',
          auth: {
            scheme: 'oauth2-authorization-code',
            tokenUrl: 'https://auth.example.com/token',
            authorizationUrl: 'https://auth.example.com/authorize',
            clientId: 'imported-client',
            clientSecret: server.clients.web.secret,
            refreshToken: importedRefresh,
          },
        },
      ];
      for (const payload of definitions) {
        const res = await inject({ method: 'POST', url: '/api/v1/connections', headers: auth, payload });
        expect(res.statusCode).toBe(201);
      }
      // Real tokens from the provider: client credentials, then authorization code with refresh and rotation.
      const graph = await t.engine.vault.resolver.authProvider('graph');
      await graph.authorize({ method: 'GET', url: new URL(server.resourceUrl), headers: {} });
      const started = await inject({ url: '/api/v1/connections/hub/authorize', headers: auth });
      const callback = await server.authorize(started.json().url);
      await inject({ url: `/oauth/callback?${callback}` });
      await inject({ method: 'POST', url: '/api/v1/connections/hub/refresh', headers: auth });
      await inject({
        method: 'PATCH',
        url: '/api/v1/connections/crm',
        headers: auth,
        payload: { auth: { token: `${bearer}-rotated` } },
      });
      secrets.push(`${bearer}-rotated`);
      // A bad request carrying a secret.
      const leaky = secretValue('leaky');
      secrets.push(leaky);
      await inject({
        method: 'POST',
        url: '/api/v1/connections',
        headers: auth,
        payload: { id: 'x', auth: { scheme: 'bearer', token: leaky, bad: 1 } },
      });
      for (const id of ['crm', 'keyed', 'basic', 'graph', 'hub', 'imported']) {
        await inject({ url: `/api/v1/connections/${id}`, headers: auth });
        const state = await t.engine.vault.connections.load(id);
        for (const value of Object.values(state.secrets)) secrets.push(value);
        if (state.credentials?.accessToken) secrets.push(state.credentials.accessToken);
        if (state.credentials?.refreshToken) secrets.push(state.credentials.refreshToken);
      }
      await inject({ url: '/api/v1/connections', headers: auth });
      // The provider's callback parameters (the code) are single-use secrets too.
      secrets.push(callback.get('code')!);
      const unique = [...new Set(secrets)].filter((s) => s.length >= 8);
      expect(unique.length).toBeGreaterThanOrEqual(12);

      // 1. The raw database.
      let raw: string;
      if (dialect.name === 'sqlite') {
        const path = t.testDb.url.replace(/^sqlite:/, '');
        raw = [path, `${path}-wal`, `${path}-shm`]
          .filter((p) => existsSync(p))
          .map((p) => readFileSync(p).toString('latin1'))
          .join('\n');
        expect(raw.length).toBeGreaterThan(0);
        expect(raw).toContain('pb1.');
      } else {
        const tables = await sql<{ table_name: string }>`
          select table_name from information_schema.tables where table_schema = 'public'`.execute(t.db.db);
        const dumps: string[] = [];
        for (const { table_name } of tables.rows) {
          const rows = await sql<{
            row: string;
          }>`select t::text as row from ${sql.table(table_name)} t`.execute(t.db.db);
          dumps.push(...rows.rows.map((r) => r.row));
        }
        raw = dumps.join('\n');
        expect(raw).toContain('pb1.');
      }
      // 2. The logs (debug level) and 3. every API response.
      const logs = t.logs.text;
      expect(logs).toContain('connection created');
      const answers = responses.join('\n');
      for (const secret of unique) {
        for (const form of forms(secret)) {
          expect(raw.includes(form), `database holds ${secret.slice(0, 6)}…`).toBe(false);
          expect(logs.includes(form), `logs hold ${secret.slice(0, 6)}…`).toBe(false);
          expect(answers.includes(form), `responses hold ${secret.slice(0, 6)}…`).toBe(false);
        }
      }
    });
  });
}
