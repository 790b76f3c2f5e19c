import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../core/errors.js';

/**
 * AES-256-GCM with the key id in the ciphertext: `pb1.<key id>.<iv>.<ciphertext + tag>` (base64url).
 * The id says which key of the keyring opens it, so old data stays readable during a rotation and the
 * rotation can find what is left to re-encrypt. `context` is bound as additional authenticated data
 * (e.g. `connections/crm/secrets`): a ciphertext copied to another row or column does not open.
 */
export const CIPHERTEXT_VERSION = 'pb1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;
export const KEY_ID = /^[A-Za-z0-9-]{1,40}$/;

/** Source of random bytes; injectable so tests can make ciphertexts deterministic. */
export type RandomBytes = (size: number) => Buffer;

/** The prefix every ciphertext made under `keyId` starts with. */
export function ciphertextPrefix(keyId: string): string {
  return `${CIPHERTEXT_VERSION}.${keyId}.`;
}

export function seal(
  key: Buffer,
  keyId: string,
  plaintext: Buffer | string,
  context: string,
  random: RandomBytes = randomBytes,
): string {
  const iv = random(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `${ciphertextPrefix(keyId)}${iv.toString('base64url')}.${body.toString('base64url')}`;
}

export interface ParsedCiphertext {
  keyId: string;
  iv: Buffer;
  body: Buffer;
}

/** Splits a ciphertext; throws `DECRYPTION_FAILED` (naming no content) when it is not one. */
export function parseCiphertext(value: string): ParsedCiphertext {
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== CIPHERTEXT_VERSION || !KEY_ID.test(parts[1]!)) {
    throw new PatchbayError(ErrorCode.DECRYPTION_FAILED, 'stored value is not vault ciphertext');
  }
  const iv = Buffer.from(parts[2]!, 'base64url');
  const body = Buffer.from(parts[3]!, 'base64url');
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) {
    throw new PatchbayError(ErrorCode.DECRYPTION_FAILED, 'stored ciphertext is truncated');
  }
  return { keyId: parts[1]!, iv, body };
}

/** Opens a parsed ciphertext; a wrong key, a wrong context or tampering all fail the tag check. */
export function open(key: Buffer, parsed: ParsedCiphertext, context: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, parsed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(parsed.body.subarray(parsed.body.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(parsed.body.subarray(0, parsed.body.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (err) {
    throw new PatchbayError(
      ErrorCode.DECRYPTION_FAILED,
      `cannot decrypt a value made with key "${parsed.keyId}": wrong key, wrong context or tampered data`,
      { cause: err },
    );
  }
}
