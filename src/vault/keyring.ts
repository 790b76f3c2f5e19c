import { randomBytes } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { open, parseCiphertext, type RandomBytes, seal } from './cipher.js';
import type { KeyEntry } from './key-material.js';

/**
 * The keys this process holds, by id. It encrypts with whichever key it is told (the vault decides which
 * one is primary, from the store) and decrypts with the key a ciphertext names.
 */
export class Keyring {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    entries: readonly KeyEntry[],
    private readonly random: RandomBytes = randomBytes,
  ) {
    for (const entry of entries) this.add(entry);
  }

  add(entry: KeyEntry): void {
    this.keys.set(entry.id, entry.key);
  }

  has(id: string): boolean {
    return this.keys.has(id);
  }

  ids(): string[] {
    return [...this.keys.keys()];
  }

  seal(keyId: string, plaintext: Buffer | string, context: string): string {
    const key = this.keys.get(keyId);
    if (!key) {
      throw new PatchbayError(
        ErrorCode.ENCRYPTION_KEY_INVALID,
        `encryption key "${keyId}" is not loaded in this process (loaded: ${this.ids().join(', ') || 'none'})`,
      );
    }
    return seal(key, keyId, plaintext, context, this.random);
  }

  /** The id of the key that made `ciphertext`. */
  keyIdOf(ciphertext: string): string {
    return parseCiphertext(ciphertext).keyId;
  }

  open(ciphertext: string, context: string): Buffer {
    const parsed = parseCiphertext(ciphertext);
    const key = this.keys.get(parsed.keyId);
    if (!key) {
      throw new PatchbayError(
        ErrorCode.ENCRYPTION_KEY_INVALID,
        `a stored secret was encrypted with key "${parsed.keyId}", which is not loaded ` +
          `(loaded: ${this.ids().join(', ') || 'none'}); add it to PATCHBAY_ENCRYPTION_KEY or the key file`,
      );
    }
    return open(key, parsed, context);
  }
}
