import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/index.js';
import { ErrorCode } from '../../src/core/errors.js';
import type { Database } from '../../src/store/database.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';
import { openTestEngine } from '../helpers/engine.js';
import { openTestVault, type TestVault } from '../helpers/vault.js';

const codeAuth = {
  scheme: 'oauth2-authorization-code' as const,
  tokenUrl: 'https://auth.example.com/token',
  authorizationUrl: 'https://auth.example.com/authorize',
  clientId: 'client-1',
  clientSecret: 'first-client-secret',
};

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`connections on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    let t: TestVault;
    beforeAll(async () => {
      ({ database, cleanup } = await migratedDatabase(dialect));
    });
    afterAll(async () => cleanup?.());
    beforeEach(async () => {
      for (const table of ['connections', 'oauth_states', 'encryption_keys'] as const) {
        await database.db.deleteFrom(table).execute();
      }
      t = await openTestVault(database);
    });

    it('syncs connections from the config: creates them, writes changes, and leaves unchanged ones alone', async () => {
      const config = parseConfig({
        connections: [
          {
            id: 'crm',
            baseUrl: 'https://api.example.com',
            auth: { scheme: 'bearer', token: 'config-token-1' },
          },
          { id: 'hub', provider: 'hubspot', auth: { ...codeAuth, refreshToken: 'imported-rt' } },
        ],
      });
      await t.connections.syncFromConfig(config.connections);
      const crm = await t.connections.require('crm');
      expect(crm).toMatchObject({ origin: 'config', scheme: 'bearer', status: 'active', version: 0 });
      expect((await t.connections.load('crm')).secrets).toEqual({ token: 'config-token-1' });
      const hub = await t.connections.load('hub');
      expect(hub.credentials?.refreshToken).toBe('imported-rt');
      expect(hub.connection).toMatchObject({ provider: 'hubspot', status: 'active', version: 1 });
      // Same config again: nothing written.
      await t.connections.syncFromConfig(config.connections);
      expect((await t.connections.require('crm')).version).toBe(0);
      // A rotated secret in the config is written; the OAuth tokens survive a new client secret.
      const changed = parseConfig({
        connections: [
          {
            id: 'crm',
            baseUrl: 'https://api.example.com',
            auth: { scheme: 'bearer', token: 'config-token-2' },
          },
          { id: 'hub', provider: 'hubspot', auth: { ...codeAuth, clientSecret: 'second-client-secret' } },
        ],
      });
      await t.connections.syncFromConfig(changed.connections);
      expect((await t.connections.load('crm')).secrets).toEqual({ token: 'config-token-2' });
      const hubAfter = await t.connections.load('hub');
      expect(hubAfter.secrets).toEqual({ clientSecret: 'second-client-secret' });
      expect(hubAfter.credentials?.refreshToken).toBe('imported-rt');
    });

    it('changing the OAuth client drops its tokens and asks for authorization again', async () => {
      await t.connections.create({ id: 'hub', auth: { ...codeAuth, refreshToken: 'rt-1' } });
      await t.connections.update('hub', { auth: { clientSecret: 'rotated-secret' } });
      expect((await t.connections.load('hub')).credentials?.refreshToken).toBe('rt-1');
      await t.connections.update('hub', { auth: { clientId: 'another-client' } });
      const after = await t.connections.load('hub');
      expect(after.credentials).toBeUndefined();
      expect(after.connection.status).toBe('needs_reauth');
      expect(after.connection.statusReason).toBe(
        'not authorized yet: open the link from GET /api/v1/connections/hub/authorize',
      );
    });

    it('replaces the auth when the scheme changes, validating the new one as a whole', async () => {
      await t.connections.create({ id: 'x', auth: { scheme: 'bearer', token: 'tok-1' } });
      const bad = await t.connections
        .update('x', { auth: { scheme: 'basic', username: 'u' } })
        .catch((e) => e);
      expect(bad.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(bad.message).toBe('auth.password: is required');
      await t.connections.update('x', { auth: { scheme: 'basic', username: 'u', password: 'pw-1' } });
      const state = await t.connections.load('x');
      expect(state.connection.scheme).toBe('basic');
      expect(state.secrets).toEqual({ password: 'pw-1' });
      const badUrl = await t.connections.update('x', { baseUrl: 'ftp://x' }).catch((e) => e);
      expect(badUrl.message).toBe('baseUrl: must be an absolute http(s) URL');
    });

    it('deleting a connection removes its pending authorizations', async () => {
      await t.connections.create({ id: 'hub', auth: codeAuth });
      await t.authorization.start('hub', { redirectUri: 'https://patchbay.example.com/oauth/callback' });
      expect(await database.db.selectFrom('oauth_states').selectAll().execute()).toHaveLength(1);
      await t.connections.delete('hub');
      expect(await database.db.selectFrom('oauth_states').selectAll().execute()).toHaveLength(0);
      await expect(t.connections.delete('hub')).rejects.toThrow('no connection hub');
    });
  });

  describe.skipIf(!available)(`engine start-up with connections on ${dialect.name}`, () => {
    it('writes config connections at start and refuses a config with a duplicate id', async () => {
      const engine = await openTestEngine(dialect, {
        connections: [{ id: 'crm', auth: { scheme: 'api-key', key: 'k-123456', in: 'query' } }],
      });
      try {
        const connection = await engine.engine.vault.connections.require('crm');
        expect(connection).toMatchObject({ origin: 'config', scheme: 'api-key', settings: { in: 'query' } });
      } finally {
        await engine.close();
      }
      expect(() =>
        parseConfig({
          connections: [
            { id: 'crm', auth: { scheme: 'bearer', token: 'a' } },
            { id: 'crm', auth: { scheme: 'bearer', token: 'b' } },
          ],
        }),
      ).toThrow('connections[1].id: "crm" is already used by connections[0]');
    });
  });
}
