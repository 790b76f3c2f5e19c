import { abortError } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { ciphertextPrefix } from './cipher.js';
import { generateKey, type KeyEntry } from './key-material.js';
import { KEY_ENV, writeKeyFile } from './key-source.js';
import type { EncryptedColumn, Vault } from './vault.js';

export interface RotationProgress {
  /** Values re-encrypted (or found already rewritten by a concurrent writer) so far. */
  done: number;
  /** Values known to need re-encryption so far (grows if a later pass finds stragglers). */
  total: number;
  /** `table.column` being worked on. */
  column: string;
}

export interface RotateOptions {
  /** Called after each batch; a returned promise is awaited (back-pressure for slow displays). */
  onProgress?: (progress: RotationProgress) => void | Promise<void>;
  signal?: AbortSignal;
  /** Rows read per query. Defaults to 200. */
  batchSize?: number;
  /**
   * Keep the old keys in the generated key file (and usable) once everything is re-encrypted, e.g. to
   * read old backups. Defaults to false: old keys are retired when the rotation completes.
   */
  keepOldKeys?: boolean;
}

export interface RotationResult {
  /** The key that now encrypts everything. */
  keyId: string;
  /** Keys that held data before and hold none now (removed from the generated key file unless `keepOldKeys`). */
  retired: string[];
  reencrypted: number;
  /** Values a concurrent writer rewrote during the pass (already under the new key). */
  raced: number;
}

const DEFAULTS = { batchSize: 200, keepOldKeys: false };

/**
 * Key rotation: registers a new primary key, then re-encrypts every stored secret under it while the
 * server keeps running, and retires the old keys only once no value made with them is left.
 *
 * Each value is rewritten with a compare-and-swap on its old ciphertext, so a concurrent write (a token
 * refresh) is never overwritten with stale data. Other processes learn the new primary within the
 * vault's `primaryRefreshMs`; the rotation keeps passing over the tables until a pass that starts after
 * that delay finds nothing under an old key, so nothing a slow process wrote is left behind.
 */
export class KeyRotation {
  constructor(private readonly vault: Vault) {}

  /**
   * With the generated key file: adds a fresh key to it. With operator keys (`PATCHBAY_ENCRYPTION_KEY`
   * or a key file given by path): the first key listed becomes primary. Then re-encrypts everything.
   * Running it again after an interruption resumes the re-encryption.
   */
  async rotate(options: RotateOptions = {}): Promise<RotationResult> {
    const o = { ...DEFAULTS, ...options };
    validateBatchSize(o.batchSize);
    const vault = this.vault;
    const current = await vault.primaryKeyId();
    let target: string;
    if (vault.source.kind === 'generated') {
      const rows = await vault.keys.all();
      const unfinished = rows.some((r) => r.status === 'previous' && vault.keyring.has(r.id));
      // An interrupted rotation is resumed rather than starting a third key.
      target = unfinished ? current : await this.addGeneratedKey();
    } else {
      const first = vault.source.read()[0]!;
      target = first.id;
      if (target === current) {
        const rows = await vault.keys.all();
        if (!rows.some((r) => r.status === 'previous')) {
          throw new PatchbayError(
            ErrorCode.INVALID_ARGUMENT,
            `nothing to rotate to: "${current}" is already the primary key. Put a new key first in ` +
              `${vault.source.description} (e.g. ${KEY_ENV}=<new>,<old>; \`patchbay keys generate\` prints ` +
              `one), restart the processes, then run the rotation`,
          );
        }
      }
    }
    if (target !== current) {
      await vault.keys.register([
        {
          id: target,
          checkValue: vault.checkValue(target),
          status: 'standby',
          createdAt: vault.clock.now(),
          updatedAt: vault.clock.now(),
        },
      ]);
      await vault.keys.promote(target, vault.clock.now());
      vault.usePrimary(target);
    }
    return this.reencrypt(o);
  }

  /** Re-encrypts every value not under the primary key, then retires the other keys. */
  async reencrypt(options: RotateOptions = {}): Promise<RotationResult> {
    const o = { ...DEFAULTS, ...options };
    validateBatchSize(o.batchSize);
    const vault = this.vault;
    const target = await vault.primaryKeyId();
    const prefix = ciphertextPrefix(target);
    const settledAt = vault.clock.now() + vault.primaryRefreshMs;
    const columns = vault.encryptedColumns();
    const result: RotationResult = { keyId: target, retired: [], reencrypted: 0, raced: 0 };
    let total = 0;
    let done = 0;
    for (const column of columns) total += await vault.keys.countOther(column, prefix);
    await o.onProgress?.({ done, total, column: '' });
    for (;;) {
      const passStart = vault.clock.now();
      let found = 0;
      for (const column of columns) {
        const name = `${column.table}.${column.column}`;
        let after: string | undefined;
        for (;;) {
          if (o.signal?.aborted) throw abortError(o.signal);
          const page = await vault.keys.pageOther(column, prefix, after, o.batchSize);
          if (page.length === 0) break;
          for (const row of page) {
            if (await this.reencryptOne(column, row.id, row.value, target)) result.reencrypted++;
            else result.raced++;
          }
          found += page.length;
          done += page.length;
          total = Math.max(total, done);
          after = page[page.length - 1]!.id;
          await o.onProgress?.({ done, total, column: name });
        }
      }
      if (found === 0 && passStart >= settledAt) break;
      if (found === 0) await vault.clock.sleep(Math.min(settledAt - passStart, 1000), o.signal);
    }
    // Every value is under the primary now: the other keys hold nothing. They stay in the generated
    // key file only when asked (to read old backups); operator keys are theirs to remove.
    const rows = await vault.keys.all();
    const old = rows.filter((r) => r.status === 'previous').map((r) => r.id);
    await vault.keys.retire(old, vault.clock.now());
    result.retired = old;
    if (!o.keepOldKeys && vault.source.kind === 'generated' && vault.source.path) {
      const keep = vault.source.read().filter((k) => k.id === target);
      writeKeyFile(vault.source.path, keep);
    }
    await o.onProgress?.({ done, total, column: '' });
    return result;
  }

  private async reencryptOne(
    column: EncryptedColumn,
    id: string,
    value: string,
    target: string,
  ): Promise<boolean> {
    const context = column.context(id);
    let plaintext: string;
    try {
      plaintext = await this.vault.open(value, context);
    } catch (err) {
      throw new PatchbayError(
        ErrorCode.DECRYPTION_FAILED,
        `cannot re-encrypt ${column.table}.${column.column} of "${id}": ${(err as Error).message}; ` +
          'the rotation stopped and the old keys are kept',
        { cause: err },
      );
    }
    const fresh = this.vault.keyring.seal(target, plaintext, context);
    return this.vault.keys.swap(column, id, value, fresh);
  }

  /** Writes a new key at the head of the generated key file (old keys stay until the rotation ends). */
  private async addGeneratedKey(): Promise<string> {
    const vault = this.vault;
    const existing = vault.source.read();
    const entry: KeyEntry = generateKey();
    writeKeyFile(vault.source.path!, [entry, ...existing]);
    vault.keyring.add(entry);
    return entry.id;
  }
}

function validateBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `batchSize must be an integer from 1 to 10000, got ${String(batchSize)}`,
    );
  }
}
