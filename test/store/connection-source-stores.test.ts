import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStore, type OauthState, type StoredConnection } from '../../src/store/connection-store.js';
import type { Database } from '../../src/store/database.js';
import { type EncryptionKey, EncryptionKeyStore } from '../../src/store/encryption-key-store.js';
import { SourceStore, type StoredSource } from '../../src/store/source-store.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

const T0 = 1_767_225_600_000;

/** Every key of an object, at any depth of plain objects: none may be snake_case. */
function snakeKeys(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(key.includes('_') ? [key] : []),
    ...snakeKeys(inner),
  ]);
}

/** The connection, OAuth state, encryption key and source stores hand out domain objects, on every dialect. */
for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`connection and source stores on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await migratedDatabase(dialect);
      database = opened.database;
      cleanup = opened.cleanup;
    });
    afterAll(async () => cleanup?.());

    describe('ConnectionStore', () => {
      const connection: StoredConnection = {
        id: 'conn-1',
        provider: 'hubspot',
        baseUrl: 'https://api.example.test',
        authScheme: 'oauth2-client-credentials',
        authConfig: {
          scheme: 'oauth2-client-credentials',
          scopes: ['a', 'b'],
          nested: { deep: 1 },
          secretFields: [],
        },
        secrets: 'v1:k1:secrets',
        credentials: null,
        expiresAt: null,
        credentialVersion: 0,
        refreshLock: null,
        refreshLockUntil: null,
        status: 'active',
        statusReason: null,
        metadata: { team: 'growth', tags: ['x'], limit: 3, on: true },
        origin: 'api',
        createdAt: T0,
        updatedAt: T0,
        refreshedAt: null,
      };

      it('reads back what it wrote: camelCase, parsed JSON, ms numbers, nulls kept', async () => {
        const store = new ConnectionStore(database);
        expect(await store.insert(connection)).toBe(true);
        expect(await store.insert({ ...connection, provider: 'other' })).toBe(false);
        const read = await store.get('conn-1');
        expect(read).toStrictEqual(connection);
        expect(snakeKeys(read)).toEqual([]);
        expect(await store.list({ limit: 10 })).toStrictEqual([connection]);
        expect(await store.list({ limit: 10, status: 'error' })).toEqual([]);
      });

      it('writes credentials by compare-and-swap, ms times and camelCase fields arriving in the columns', async () => {
        const store = new ConnectionStore(database);
        const write = {
          credentials: 'v1:k1:tokens',
          expiresAt: T0 + 3_600_000,
          status: 'active' as const,
          statusReason: null,
          refreshedAt: T0 + 10,
          updatedAt: T0 + 10,
          authConfig: { scheme: 'oauth2-client-credentials', scopes: ['c'], secretFields: ['clientSecret'] },
        };
        expect(await store.tryLock('conn-1', 0, 'me', T0, T0 + 1_000)).toBe(true);
        expect((await store.get('conn-1'))?.refreshLockUntil).toBe(T0 + 1_000);
        expect(await store.writeCredentials('conn-1', 0, write)).toBe(1);
        expect(await store.writeCredentials('conn-1', 0, write)).toBeUndefined();
        expect(await store.get('conn-1')).toStrictEqual({
          ...connection,
          ...write,
          credentialVersion: 1,
          refreshLock: null,
          refreshLockUntil: null,
        });
      });

      it('updates non-secret fields, metadata as JSON, leaving the rest', async () => {
        const store = new ConnectionStore(database);
        const before = (await store.get('conn-1'))!;
        expect(
          await store.updateFields('conn-1', {
            baseUrl: null,
            metadata: { team: 'ops' },
            updatedAt: T0 + 20,
          }),
        ).toBe(true);
        expect(await store.get('conn-1')).toStrictEqual({
          ...before,
          baseUrl: null,
          metadata: { team: 'ops' },
          updatedAt: T0 + 20,
        });
        expect(await store.setStatus('conn-1', 1, 'needs_reauth', 'refused', T0 + 30)).toBe(true);
        expect(await store.setStatus('conn-1', 0, 'error', 'stale', T0 + 31)).toBe(false);
        const read = await store.get('conn-1');
        expect([read?.status, read?.statusReason, read?.updatedAt]).toEqual([
          'needs_reauth',
          'refused',
          T0 + 30,
        ]);
      });

      it('redeems an OAuth state once, camelCase with ms times, and prunes expired ones', async () => {
        const store = new ConnectionStore(database);
        const state: OauthState = {
          id: 'state-1',
          connectionId: 'conn-1',
          secrets: 'v1:k1:verifier',
          redirectUri: 'https://patchbay.example.test/callback',
          returnTo: null,
          createdAt: T0,
          expiresAt: T0 + 600_000,
        };
        await store.insertState(state);
        await store.insertState({ ...state, id: 'state-2', returnTo: '/ui/connections', expiresAt: T0 + 1 });
        const taken = await store.takeState('state-1');
        expect(taken).toStrictEqual(state);
        expect(snakeKeys(taken)).toEqual([]);
        expect(await store.takeState('state-1')).toBeUndefined();
        expect(await store.pruneStates(T0 + 2)).toBe(1);
        expect(await store.takeState('state-2')).toBeUndefined();
      });
    });

    describe('EncryptionKeyStore', () => {
      const key = (id: string, status: EncryptionKey['status'], at: number): EncryptionKey => ({
        id,
        checkValue: `v1:${id}:check`,
        status,
        createdAt: at,
        updatedAt: at,
      });

      it('registers keys once, reads them back camelCase in creation order, and promotes and retires by status', async () => {
        const store = new EncryptionKeyStore(database);
        await store.registerFirstPrimary(key('k1', 'primary', T0));
        await store.registerFirstPrimary(key('k0', 'primary', T0 - 1));
        await store.register([
          key('k2', 'standby', T0 + 1),
          { ...key('k1', 'standby', T0 + 9), checkValue: 'x' },
        ]);
        const keys = await store.all();
        expect(keys).toStrictEqual([key('k1', 'primary', T0), key('k2', 'standby', T0 + 1)]);
        expect(snakeKeys(keys[0])).toEqual([]);
        expect(await store.primaryId()).toBe('k1');
        await store.promote('k2', T0 + 5);
        await store.retire(['k1', 'k2'], T0 + 6);
        expect(await store.all()).toStrictEqual([
          { ...key('k1', 'retired', T0), updatedAt: T0 + 6 },
          { ...key('k2', 'primary', T0 + 1), updatedAt: T0 + 5 },
        ]);
      });
    });

    describe('SourceStore', () => {
      const source: StoredSource = {
        id: 'src-1',
        definition: JSON.stringify({ id: 'src-1', verify: { scheme: 'hmac', header: 'x-sig' } }),
        secrets: 'v1:k1:ciphertext',
        createdAt: T0,
        updatedAt: T0 + 1,
      };

      it('reads back what it wrote, camelCase, times as ms numbers, the JSON text unchanged', async () => {
        const store = new SourceStore(database);
        expect(await store.insert(source)).toBe(true);
        expect(await store.insert({ ...source, secrets: 'other' })).toBe(false);
        const read = await store.get('src-1');
        expect(read).toStrictEqual(source);
        expect(typeof read?.createdAt).toBe('number');
        expect(JSON.parse(read!.definition)).toEqual({
          id: 'src-1',
          verify: { scheme: 'hmac', header: 'x-sig' },
        });
        expect(snakeKeys(read)).toEqual([]);
        expect(await store.list()).toStrictEqual([source]);
      });

      it('updates definition, secrets and updatedAt, and the version moves', async () => {
        const store = new SourceStore(database);
        const before = await store.version();
        expect(
          await store.update('src-1', { definition: '{"id":"src-1"}', secrets: 's2', updatedAt: T0 + 5 }),
        ).toBe(true);
        expect(await store.update('missing', { definition: '{}', secrets: 's', updatedAt: T0 })).toBe(false);
        expect(await store.get('src-1')).toStrictEqual({
          ...source,
          definition: '{"id":"src-1"}',
          secrets: 's2',
          updatedAt: T0 + 5,
        });
        expect(await store.version()).not.toBe(before);
        expect(await store.delete('src-1')).toBe(true);
        expect(await store.get('src-1')).toBeUndefined();
      });
    });
  });
}
