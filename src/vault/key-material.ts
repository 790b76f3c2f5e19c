import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { KEY_BYTES, KEY_ID } from './cipher.js';

/** One encryption key: 32 random bytes and the id recorded in the ciphertexts it makes. */
export interface KeyEntry {
  id: string;
  key: Buffer;
}

/**
 * A key's id when none is given: a hash of the key, so every process derives the same id from the same
 * key without any coordination, and the id reveals nothing about the key.
 */
export function deriveKeyId(key: Buffer): string {
  return `k${createHash('sha256').update('patchbay key id\0').update(key).digest('hex').slice(0, 12)}`;
}

export function generateKey(random: (size: number) => Buffer = randomBytes): KeyEntry {
  const key = random(KEY_BYTES);
  return { id: deriveKeyId(key), key };
}

/** How a key is written in `PATCHBAY_ENCRYPTION_KEY` and key files: `<id>:<base64>`. */
export function formatKey(entry: KeyEntry): string {
  return `${entry.id}:${entry.key.toString('base64')}`;
}

function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return key.length === KEY_BYTES ? key : undefined;
  }
  return undefined;
}

/**
 * Parses a list of keys: separated by commas or new lines, `#` starts a comment, each item
 * `[<id>:]<32 bytes as base64, base64url or hex>`. The first key is the one a fresh database starts
 * with. Errors name the origin and the position, never the key text.
 */
export function parseKeyList(text: string, origin: string): KeyEntry[] {
  const items = text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const keys: KeyEntry[] = [];
  items.forEach((item, index) => {
    const where = items.length > 1 ? `${origin} (key ${index + 1} of ${items.length})` : origin;
    const colon = item.indexOf(':');
    const id = colon >= 0 ? item.slice(0, colon) : undefined;
    const value = colon >= 0 ? item.slice(colon + 1) : item;
    if (id !== undefined && !KEY_ID.test(id)) {
      throw new PatchbayError(
        ErrorCode.ENCRYPTION_KEY_INVALID,
        `${where}: key id must be 1–40 letters, digits or "-", before a ":"`,
      );
    }
    const key = decodeKey(value);
    if (!key) {
      throw new PatchbayError(
        ErrorCode.ENCRYPTION_KEY_INVALID,
        `${where}: a key must be 32 random bytes written as base64 (44 characters) or hex (64), ` +
          `got ${value.length} characters; generate one with \`patchbay keys generate\``,
      );
    }
    const entry = { id: id ?? deriveKeyId(key), key };
    const same = keys.find((k) => k.id === entry.id);
    if (same && !same.key.equals(key)) {
      throw new PatchbayError(
        ErrorCode.ENCRYPTION_KEY_INVALID,
        `${where}: key id "${entry.id}" is used twice`,
      );
    }
    if (!same) keys.push(entry);
  });
  return keys;
}
