import { createHmac } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../../core/errors.js';

/**
 * Shared secrets used as UTF-8 bytes (GitHub, Stripe, Slack, HubSpot, generic HMAC). Plain Buffers, not
 * KeyObjects: `createHmac` with a KeyObject measured 25% slower per call, and the bytes are in memory
 * either way.
 */
export function utf8Keys(secrets: readonly string[], scheme: string): Buffer[] {
  requireSecrets(secrets, scheme);
  return secrets.map((secret) => Buffer.from(secret, 'utf8'));
}

export function requireSecrets(secrets: readonly string[], scheme: string): void {
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `scheme "${scheme}" needs at least one secret`);
  }
  secrets.forEach((secret, i) => {
    if (typeof secret !== 'string' || secret.length === 0) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `secrets[${i}] must be a non-empty string`);
    }
  });
}

/** HMAC-SHA256 over the concatenation of `parts`, without building the concatenation. */
export function hmacSha256(key: Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** HMACs of the same content under every key. */
export function hmacAll(keys: readonly Buffer[], ...parts: Array<string | Buffer>): Buffer[] {
  return keys.map((key) => hmacSha256(key, ...parts));
}
