import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import type { Database } from '../../src/store/database.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import {
  columnContext,
  type EncryptedColumn,
  encryptedColumn,
  openVault,
  type RotationProgress,
  Vault,
  type VaultServices,
} from '../../src/vault/index.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';
import { newKeyText, secretValue, tempDataDir } from '../helpers/vault.js';

const idOf = (keyText: string) => keyText.split(':')[0]!;

async function open(
  database: Database,
  keys: string[],
  extra: { clock?: FakeClock; dataDir?: string; primaryRefreshMs?: number; columns?: EncryptedColumn[] } = {},
) {
  return openVault({
    ...(extra.columns && { columns: extra.columns }),
    database,
    env: keys.length > 0 ? { PATCHBAY_ENCRYPTION_KEY: keys.join(',') } : {},
    dataDir: extra.dataDir ?? tempDataDir(),
    settings: { primaryRefreshMs: extra.primaryRefreshMs ?? 0 },
    ...(extra.clock && { clock: extra.clock }),
  });
}

/** Every ciphertext the database holds, with the context it opens under. */
async function ciphertexts(database: Database): Promise<{ value: string; context: string }[]> {
  const out: { value: string; context: string }[] = [];
  for (const r of await database.db
    .selectFrom('connections')
    .select(['id', 'secrets', 'credentials'])
    .execute()) {
    if (r.secrets) out.push({ value: r.secrets, context: columnContext('connections', r.id, 'secrets') });
    if (r.credentials)
      out.push({ value: r.credentials, context: columnContext('connections', r.id, 'credentials') });
  }
  for (const r of await database.db.selectFrom('oauth_states').select(['id', 'secrets']).execute()) {
    out.push({ value: r.secrets, context: columnContext('oauth_states', r.id, 'secrets') });
  }
  return out;
}

/** A few connections of every scheme, returning the plaintexts they hold. */
async function seed(v: VaultServices, count = 4): Promise<Map<string, string>> {
  const plain = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const token = secretValue('tok');
    await v.connections.create({ id: `bearer-${i}`, auth: { scheme: 'bearer', token } });
    plain.set(`bearer-${i}`, token);
  }
  const password = secretValue('pw');
  await v.connections.create({ id: 'basic', auth: { scheme: 'basic', username: 'u', password } });
  plain.set('basic', password);
  const refreshToken = secretValue('rt');
  await v.connections.create({
    id: 'crm',
    auth: {
      scheme: 'oauth2-authorization-code',
      authorizationUrl: 'https://auth.example.com/authorize',
      tokenUrl: 'https://auth.example.com/token',
      clientId: 'client',
      clientSecret: secretValue('cs'),
      refreshToken,
    },
  });
  plain.set('crm', refreshToken);
  await v.authorization.start('crm', { redirectUri: 'https://patchbay.example.com/oauth/callback' });
  return plain;
}

async function plaintexts(v: VaultServices): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const c of await v.connections.list({ limit: 100 })) {
    const state = await v.connections.load(c.id);
    out.set(c.id, state.secrets.token ?? state.secrets.password ?? state.credentials?.refreshToken ?? '');
  }
  return out;
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`key rotation on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ database, cleanup } = await migratedDatabase(dialect));
    });
    afterAll(async () => cleanup?.());
    beforeEach(async () => {
      for (const table of ['connections', 'oauth_states', 'encryption_keys'] as const) {
        await database.db.deleteFrom(table).execute();
      }
    });

    it('re-encrypts everything under the new key with progress, retires the old one, and old data still decrypts', async () => {
      const oldKey = newKeyText();
      const newKey = newKeyText();
      const before = await open(database, [oldKey]);
      const plain = await seed(before);
      const count = (await ciphertexts(database)).length;
      expect(count).toBe(4 + 1 + 2 + 1);
      // Deployed with the new key first: it decrypts, but the store still says the old key is primary.
      const v = await open(database, [newKey, oldKey]);
      await v.connections.create({ id: 'late', auth: { scheme: 'bearer', token: 'late-token-value' } });
      plain.set('late', 'late-token-value');
      expect((await ciphertexts(database)).every((c) => c.value.startsWith(`pb1.${idOf(oldKey)}.`))).toBe(
        true,
      );
      const progress: RotationProgress[] = [];
      const result = await v.rotation.rotate({
        batchSize: 3,
        onProgress: (p) => void progress.push({ ...p }),
      });
      expect(result).toEqual({
        keyId: idOf(newKey),
        retired: [idOf(oldKey)],
        reencrypted: count + 1,
        raced: 0,
      });
      expect(progress[0]).toEqual({ done: 0, total: count + 1, column: '' });
      expect(progress.at(-1)).toEqual({ done: count + 1, total: count + 1, column: '' });
      expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
      const after = await ciphertexts(database);
      expect(after.every((c) => c.value.startsWith(`pb1.${idOf(newKey)}.`))).toBe(true);
      expect(await plaintexts(v)).toEqual(plain);
      const keys = await database.db
        .selectFrom('encryption_keys')
        .select(['id', 'status'])
        .orderBy('id')
        .execute();
      expect(Object.fromEntries(keys.map((k) => [k.id, k.status]))).toEqual({
        [idOf(newKey)]: 'primary',
        [idOf(oldKey)]: 'retired',
      });
      // The new key alone now opens the database; the old one alone is refused at start-up.
      expect(await plaintexts(await open(database, [newKey]))).toEqual(plain);
      const refused = await open(database, [oldKey]).catch((e) => e);
      expect(refused.code).toBe(ErrorCode.ENCRYPTION_KEY_INVALID);
      expect(refused.message).toContain(`encrypted with key "${idOf(newKey)}"`);
    });

    it('an interrupted rotation keeps the old key required, reads both, and resumes', async () => {
      const oldKey = newKeyText();
      const newKey = newKeyText();
      const plain = await seed(await open(database, [oldKey]), 6);
      const v = await open(database, [newKey, oldKey]);
      const abort = new AbortController();
      const stopped = await v.rotation
        .rotate({
          batchSize: 2,
          signal: abort.signal,
          onProgress: (p) => {
            if (p.done >= 2) abort.abort();
          },
        })
        .catch((e) => e);
      expect(stopped.code).toBe(ErrorCode.ABORTED);
      const prefixes = new Set((await ciphertexts(database)).map((c) => c.value.split('.')[1]));
      expect(prefixes).toEqual(new Set([idOf(oldKey), idOf(newKey)]));
      expect(await plaintexts(v)).toEqual(plain);
      const partial = await open(database, [newKey]).catch((e) => e);
      expect(partial.message).toContain('still partly encrypted (rotation not finished)');
      const resumed = await v.rotation.rotate();
      expect(resumed.keyId).toBe(idOf(newKey));
      expect((await ciphertexts(database)).every((c) => c.value.startsWith(`pb1.${idOf(newKey)}.`))).toBe(
        true,
      );
      expect(await plaintexts(await open(database, [newKey]))).toEqual(plain);
    });

    it('picks up values a process still on the old key writes during the rotation, losing none', async () => {
      const oldKey = newKeyText();
      const newKey = newKeyText();
      await seed(await open(database, [oldKey]), 3);
      // The rotating process waits 300 ms (its primaryRefreshMs) before its last pass; the writer has not
      // noticed the rotation yet and still encrypts with the old key.
      const v = await open(database, [newKey, oldKey], { primaryRefreshMs: 300 });
      const writer = await open(database, [newKey, oldKey], { primaryRefreshMs: 3_600_000 });
      const fresh = secretValue('refreshed');
      let wrote = false;
      const result = await v.rotation.rotate({
        batchSize: 1,
        onProgress: async (p) => {
          if (wrote || p.done < p.total || p.total === 0) return;
          wrote = true;
          const state = await writer.connections.load('crm');
          await writer.connections.saveTokens(state, {
            accessToken: 'a',
            tokenType: 'bearer',
            refreshToken: fresh,
            expiresAt: null,
          });
        },
      });
      expect(wrote).toBe(true);
      expect(result.reencrypted).toBe((await ciphertexts(database)).length + 1);
      expect((await v.connections.load('crm')).credentials?.refreshToken).toBe(fresh);
      expect((await ciphertexts(database)).every((c) => c.value.startsWith(`pb1.${idOf(newKey)}.`))).toBe(
        true,
      );
    });

    it('a re-encryption never overwrites a value that changed after it was read', async () => {
      const v = await open(database, [newKeyText()]);
      await v.connections.create({ id: 'x', auth: { scheme: 'bearer', token: 'first-token' } });
      const column = encryptedColumn('connections', 'secrets');
      const [row] = await v.vault.keys.pageOther(column, 'pb1.nothing.', undefined, 10);
      await v.connections.update('x', { auth: { token: 'second-token' } });
      expect(await v.vault.keys.swap(column, 'x', row!.value, 'stale')).toBe(false);
      expect((await v.connections.load('x')).secrets.token).toBe('second-token');
    });

    it('re-encrypts the columns of other modules it was opened with', async () => {
      await sql`create table rotation_extra (id text primary key, secret text)`.execute(database.db);
      try {
        const oldKey = newKeyText();
        const newKey = newKeyText();
        const v1 = await open(database, [oldKey]);
        const column = encryptedColumn('rotation_extra', 'secret');
        for (const id of ['a', 'b']) {
          const value = await v1.vault.seal(`extra-${id}`, column.context(id));
          await sql`insert into rotation_extra (id, secret) values (${id}, ${value})`.execute(database.db);
        }
        const v2 = await open(database, [newKey, oldKey], { columns: [column] });
        await v2.rotation.rotate();
        const rows = await sql<{
          id: string;
          secret: string;
        }>`select id, secret from rotation_extra order by id`.execute(database.db);
        for (const row of rows.rows) {
          expect(row.secret.startsWith(`pb1.${idOf(newKey)}.`)).toBe(true);
          expect(await v2.vault.open(row.secret, column.context(row.id))).toBe(`extra-${row.id}`);
        }
      } finally {
        await sql`drop table rotation_extra`.execute(database.db);
      }
    });

    it('with the generated key file: adds a key, rotates, and keeps only the new key in the file', async () => {
      const dataDir = tempDataDir();
      const v1 = await open(database, [], { dataDir });
      const plain = await seed(v1, 2);
      const file = join(dataDir, 'encryption.key');
      const oldId = v1.vault.keyring.ids()[0]!;
      const result = await v1.rotation.rotate();
      expect(result.keyId).not.toBe(oldId);
      expect(result.retired).toEqual([oldId]);
      const keyLines = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'));
      expect(keyLines.map((l) => l.split(':')[0])).toEqual([result.keyId]);
      expect(await plaintexts(await open(database, [], { dataDir }))).toEqual(plain);
      // keepOldKeys leaves both keys in the file (e.g. to read old backups).
      const again = await (await open(database, [], { dataDir })).rotation.rotate({ keepOldKeys: true });
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'));
      expect(lines.map((l) => l.split(':')[0])).toEqual([again.keyId, result.keyId]);
    });

    it('says what to do when there is no new key to rotate to', async () => {
      const key = newKeyText();
      const v = await open(database, [key]);
      const error = await v.rotation.rotate().catch((e) => e);
      expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(error.message).toMatch(
        /^nothing to rotate to: ".+" is already the primary key\. Put a new key first in PATCHBAY_ENCRYPTION_KEY/,
      );
    });

    it('other processes switch to the new primary within primaryRefreshMs; one without the new key refuses to write', async () => {
      const oldKey = newKeyText();
      const newKey = newKeyText();
      await open(database, [oldKey]);
      const clock = new FakeClock();
      const env = (keys: string[]) => ({ PATCHBAY_ENCRYPTION_KEY: keys.join(',') });
      const other = await Vault.open({ database, env: env([newKey, oldKey]), clock, primaryRefreshMs: 5000 });
      const stale = await Vault.open({ database, env: env([oldKey]), clock, primaryRefreshMs: 5000 });
      const rotator = await open(database, [newKey, oldKey]);
      await rotator.rotation.rotate();
      // Until its refresh interval passes, a process may still encrypt with the old key (the rotation's
      // last pass, which waits the same interval, picks such values up).
      expect((await other.seal('x', 'c')).startsWith(`pb1.${idOf(oldKey)}.`)).toBe(true);
      await clock.advance(5000);
      expect((await other.seal('x', 'c')).startsWith(`pb1.${idOf(newKey)}.`)).toBe(true);
      const refused = await stale.seal('x', 'c').catch((e) => e);
      expect(refused.code).toBe(ErrorCode.ENCRYPTION_KEY_INVALID);
      expect(refused.message).toBe(
        `the encryption key was rotated to "${idOf(newKey)}", which this process does not hold; restart it with the new key in PATCHBAY_ENCRYPTION_KEY`,
      );
    });
  });
}
