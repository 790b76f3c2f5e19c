import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { Database } from '../../src/store/database.js';
import { open, parseCiphertext, seal } from '../../src/vault/cipher.js';
import { deriveKeyId, formatKey, generateKey, Keyring, parseKeyList, Vault } from '../../src/vault/index.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';
import { LogCapture } from '../helpers/engine.js';
import { newKeyText, tempDataDir } from '../helpers/vault.js';

function failure(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  throw new Error('expected a failure');
}

async function failureOf(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  throw new Error('expected a failure');
}

describe('AES-256-GCM ciphertexts', () => {
  const key = randomBytes(32);

  it('round-trips, records the key id, and never repeats a ciphertext', () => {
    const a = seal(key, 'k1', 'hello', 'connections/crm/secrets');
    const b = seal(key, 'k1', 'hello', 'connections/crm/secrets');
    expect(a).not.toBe(b);
    expect(a.startsWith('pb1.k1.')).toBe(true);
    expect(parseCiphertext(a).keyId).toBe('k1');
    expect(open(key, parseCiphertext(a), 'connections/crm/secrets').toString()).toBe('hello');
  });

  it('refuses another context, another key and any tampering', () => {
    const value = seal(key, 'k1', 'hello', 'connections/crm/secrets');
    expect(() => open(key, parseCiphertext(value), 'connections/other/secrets')).toThrow(/cannot decrypt/);
    expect(() => open(randomBytes(32), parseCiphertext(value), 'connections/crm/secrets')).toThrow(
      /cannot decrypt/,
    );
    const parts = value.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    const tampered = [...parts.slice(0, 3), body.toString('base64url')].join('.');
    expect(() => open(key, parseCiphertext(tampered), 'connections/crm/secrets')).toThrow(/cannot decrypt/);
    expect(() => parseCiphertext('plaintext')).toThrow(/not vault ciphertext/);
  });

  it('a keyring names the missing key when a ciphertext was made with a key it lacks', () => {
    const entry = generateKey();
    const other = generateKey();
    const sealed = new Keyring([other]).seal(other.id, 'x', 'ctx');
    const error = failure(() => new Keyring([entry]).open(sealed, 'ctx'));
    expect(error.code).toBe(ErrorCode.ENCRYPTION_KEY_INVALID);
    expect(error.message).toContain(`"${other.id}"`);
  });
});

describe('key parsing', () => {
  it('accepts base64, base64url and hex, with or without an id, with comments and several keys', () => {
    const raw = randomBytes(32);
    const [a] = parseKeyList(raw.toString('base64'), 'X');
    const [b] = parseKeyList(raw.toString('base64url'), 'X');
    const [c] = parseKeyList(raw.toString('hex'), 'X');
    expect(a!.key.equals(raw) && b!.key.equals(raw) && c!.key.equals(raw)).toBe(true);
    expect(a!.id).toBe(deriveKeyId(raw));
    const other = generateKey();
    const list = parseKeyList(`# comment\nnew-1:${raw.toString('base64')}\n${formatKey(other)}, `, 'X');
    expect(list.map((k) => k.id)).toEqual(['new-1', other.id]);
  });

  it('rejects a malformed key naming where it is, without echoing it', () => {
    const error = failure(() => parseKeyList('k1:dG9vLXNob3J0LWtleS10ZXh0', 'PATCHBAY_ENCRYPTION_KEY'));
    expect(error.code).toBe(ErrorCode.ENCRYPTION_KEY_INVALID);
    expect(error.message).toBe(
      'PATCHBAY_ENCRYPTION_KEY: a key must be 32 random bytes written as base64 (44 characters) or hex (64), got 24 characters; generate one with `patchbay keys generate`',
    );
    expect(error.message).not.toContain('dG9vLXNob3J0');
    const bad = failure(() => parseKeyList(`a_b:${randomBytes(32).toString('base64')}`, 'F'));
    expect(bad.message).toBe('F: key id must be 1–40 letters, digits or "-", before a ":"');
    const twice = failure(() =>
      parseKeyList(`k:${randomBytes(32).toString('base64')},k:${randomBytes(32).toString('base64')}`, 'F'),
    );
    expect(twice.message).toBe('F (key 2 of 2): key id "k" is used twice');
  });
});

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`vault start-up on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ database, cleanup } = await migratedDatabase(dialect));
    });
    afterAll(async () => cleanup?.());
    beforeEach(async () => {
      await database.db.deleteFrom('encryption_keys').execute();
    });

    it('generates a key file with mode 0600 and a loud warning on first start, then reuses it quietly', async () => {
      const dataDir = tempDataDir();
      const logs = new LogCapture();
      const logger = createLogger({ level: 'info', destination: logs });
      const vault = await Vault.open({ database, env: {}, dataDir, logger });
      const path = join(dataDir, 'encryption.key');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const keyText = readFileSync(path, 'utf8')
        .split('\n')
        .find((l) => l && !l.startsWith('#'))!;
      expect(keyText.split(':')[0]).toBe(vault.keyring.ids()[0]);
      expect(logs.lines).toHaveLength(1);
      expect(JSON.parse(logs.lines[0]!)).toMatchObject({ level: 40, keyFile: path });
      expect(logs.text).toContain('NO ENCRYPTION KEY CONFIGURED: generated one in');
      expect(logs.text).not.toContain(keyText.split(':')[1]);
      const sealed = await vault.seal('secret', 'ctx');
      const again = await Vault.open({ database, env: {}, dataDir, logger });
      expect(logs.lines).toHaveLength(1);
      expect(await again.open(sealed, 'ctx')).toBe('secret');
    });

    it('refuses to start without a key once the database holds encrypted secrets', async () => {
      const key = newKeyText();
      await Vault.open({ database, env: { PATCHBAY_ENCRYPTION_KEY: key } });
      const dataDir = tempDataDir();
      const error = await failureOf(Vault.open({ database, env: {}, dataDir }));
      expect(error.code).toBe(ErrorCode.ENCRYPTION_KEY_INVALID);
      expect(error.message).toBe(
        `no encryption key is configured, but this database holds secrets encrypted with key "${key.split(':')[0]}": ` +
          'set PATCHBAY_ENCRYPTION_KEY or PATCHBAY_ENCRYPTION_KEY_FILE to that key (or restore the key file it was generated in)',
      );
      // It did not generate a key that would have encrypted new data differently.
      expect(() => statSync(join(dataDir, 'encryption.key'))).toThrow();
    });

    it('refuses a wrong key with one clear message, and does not register it', async () => {
      const right = newKeyText();
      const vault = await Vault.open({ database, env: { PATCHBAY_ENCRYPTION_KEY: right } });
      await vault.seal('x', 'ctx');
      const wrong = newKeyText();
      const error = await failureOf(Vault.open({ database, env: { PATCHBAY_ENCRYPTION_KEY: wrong } }));
      expect(error.code).toBe(ErrorCode.ENCRYPTION_KEY_INVALID);
      expect(error.message).toBe(
        `the encryption key does not match this database: its secrets are encrypted with key "${right.split(':')[0]}", ` +
          `but PATCHBAY_ENCRYPTION_KEY holds only "${wrong.split(':')[0]}". Set the key(s) this database was ` +
          'encrypted with; a different key would only decrypt to garbage',
      );
      const ids = (await database.db.selectFrom('encryption_keys').select('id').execute()).map((r) => r.id);
      expect(ids).toEqual([right.split(':')[0]]);
    });

    it('detects a wrong key under the right id by its key-check value', async () => {
      await Vault.open({
        database,
        env: { PATCHBAY_ENCRYPTION_KEY: `prod:${randomBytes(32).toString('base64')}` },
      });
      const error = await failureOf(
        Vault.open({
          database,
          env: { PATCHBAY_ENCRYPTION_KEY: `prod:${randomBytes(32).toString('base64')}` },
        }),
      );
      expect(error.code).toBe(ErrorCode.ENCRYPTION_KEY_INVALID);
      expect(error.message).toBe(
        'the encryption key does not match this database: key "prod" in PATCHBAY_ENCRYPTION_KEY fails the key ' +
          'check of the key this database registered under that id. Set the key this database was encrypted ' +
          'with; a different key would only decrypt to garbage',
      );
    });

    it('reads PATCHBAY_ENCRYPTION_KEY_FILE, warns when others can read it, and refuses both variables at once', async () => {
      const dir = tempDataDir();
      const file = join(dir, 'key');
      const key = newKeyText();
      writeFileSync(file, `${key}\n`, { mode: 0o644 });
      chmodSync(file, 0o644);
      const logs = new LogCapture();
      const vault = await Vault.open({
        database,
        env: { PATCHBAY_ENCRYPTION_KEY_FILE: file },
        logger: createLogger({ destination: logs }),
      });
      expect(vault.source.kind).toBe('file');
      expect(logs.text).toContain(
        `the key file ${file} can be read by other users; restrict it with chmod 600`,
      );
      const both = await failureOf(
        Vault.open({ database, env: { PATCHBAY_ENCRYPTION_KEY_FILE: file, PATCHBAY_ENCRYPTION_KEY: key } }),
      );
      expect(both.message).toBe(
        'both PATCHBAY_ENCRYPTION_KEY and PATCHBAY_ENCRYPTION_KEY_FILE are set; set only one',
      );
      const missing = await failureOf(
        Vault.open({ database, env: { PATCHBAY_ENCRYPTION_KEY_FILE: join(dir, 'nope') } }),
      );
      expect(missing.message).toMatch(/^cannot read PATCHBAY_ENCRYPTION_KEY_FILE \(.*nope\): ENOENT/);
    });

    it('a value sealed for one row does not open for another', async () => {
      const vault = await Vault.open({ database, env: { PATCHBAY_ENCRYPTION_KEY: newKeyText() } });
      const sealed = await vault.seal('token-a', 'connections/a/secrets');
      expect(await vault.open(sealed, 'connections/a/secrets')).toBe('token-a');
      const error = await failureOf(vault.open(sealed, 'connections/b/secrets'));
      expect(error.code).toBe(ErrorCode.DECRYPTION_FAILED);
    });
  });
}
