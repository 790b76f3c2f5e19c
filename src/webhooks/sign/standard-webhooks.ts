import { createHmac, randomBytes } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../../core/errors.js';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` keyed with the base64-decoded secret (after its `whsec_` prefix); the
 * header holds one `v1,<base64>` per active secret, so receivers verify during a rotation with either.
 */
export interface SignInput {
  /** `webhook-id`: stable across retries of the same message, so receivers can dedupe. Printable ASCII, no spaces. */
  id: string;
  /** Unix seconds (not ms). */
  timestamp: number;
  /** Exactly the bytes that will be sent. A string is signed as its UTF-8 encoding. */
  body: Buffer | Uint8Array | string;
  /** Every active secret (`whsec_` + base64 of 24–64 bytes); each adds one signature. */
  secrets: readonly string[];
}

export type StandardWebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** Secret sizes the spec allows, in bytes. */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MESSAGE_ID = /^[\x21-\x7e]{1,255}$/;
/** Unix seconds stay below this until the year 5138; a larger "timestamp" is almost surely in ms. */
const MAX_SECONDS = 1e11;

/** Decodes and checks a `whsec_` secret; the error names what is wrong without echoing the secret. */
export function decodeWebhookSecret(secret: string, label = 'webhook secret'): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith('whsec_')) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `${label} must start with "whsec_"`);
  }
  const raw = secret.slice(6);
  if (!BASE64.test(raw) || raw.length % 4 !== 0) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `${label} must be "whsec_" followed by base64`);
  }
  const key = Buffer.from(raw, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `${label} must decode to ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes, got ${key.length}`,
    );
  }
  return key;
}

/**
 * The three Standard Webhooks headers for one message, with one `v1,` signature per secret (in the order
 * given). Throws `INVALID_ARGUMENT` for an empty secret list, a malformed secret, an id that cannot be a
 * header value, or a timestamp that is not unix seconds.
 */
export function signStandardWebhook(input: SignInput): StandardWebhookHeaders {
  if (!Array.isArray(input.secrets) || input.secrets.length === 0) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'at least one webhook secret is needed to sign');
  }
  if (typeof input.id !== 'string' || !MESSAGE_ID.test(input.id)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      'webhook id must be 1–255 printable ASCII characters without spaces',
    );
  }
  if (typeof input.timestamp !== 'number' || !Number.isFinite(input.timestamp) || input.timestamp < 0) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `timestamp must be unix seconds, got ${input.timestamp}`,
    );
  }
  if (input.timestamp >= MAX_SECONDS) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `timestamp must be unix seconds, got ${input.timestamp} (milliseconds?)`,
    );
  }
  const timestamp = String(Math.floor(input.timestamp));
  const prefix = `${input.id}.${timestamp}.`;
  const signatures = input.secrets.map((secret, i) => {
    const mac = createHmac('sha256', decodeWebhookSecret(secret, `secrets[${i}]`));
    mac.update(prefix);
    mac.update(input.body);
    return `v1,${mac.digest('base64')}`;
  });
  return {
    'webhook-id': input.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  };
}

/** A new secret in the Standard Webhooks format: `whsec_` + base64 of `bytes` random bytes. Defaults to 32. */
export function generateWebhookSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `bytes must be an integer from ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES}, got ${bytes}`,
    );
  }
  return `whsec_${randomBytes(bytes).toString('base64')}`;
}
