import { createHmac, randomBytes } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../../core/errors.js';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` keyed with the base64-decoded secret (after its `whsec_` prefix); the
 * header holds one `v1,<base64>` per active secret, so receivers verify during a rotation with either.
 */
export interface SignInput {
  /** `webhook-id`: stable across retries of the same message, so receivers can dedupe. */
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: Buffer | string;
  /** Every active secret (`whsec_` + base64 of 24–64 bytes). */
  secrets: readonly string[];
}

export type StandardWebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** Decodes and checks a `whsec_` secret; the error names what is wrong without echoing the secret. */
export function decodeWebhookSecret(secret: string): Buffer {
  const raw = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw)) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'webhook secret must be "whsec_" followed by base64');
  }
  const key = Buffer.from(raw, 'base64');
  if (key.length < 24 || key.length > 64) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `webhook secret must decode to 24–64 bytes, got ${key.length}`,
    );
  }
  return key;
}

export function signStandardWebhook(input: SignInput): StandardWebhookHeaders {
  if (input.secrets.length === 0)
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'at least one webhook secret is needed to sign');
  const timestamp = String(Math.floor(input.timestamp));
  const signatures = input.secrets.map((secret) => {
    const mac = createHmac('sha256', decodeWebhookSecret(secret));
    mac.update(`${input.id}.${timestamp}.`);
    mac.update(input.body);
    return `v1,${mac.digest('base64')}`;
  });
  return {
    'webhook-id': input.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  };
}

/** A new secret in the Standard Webhooks format (32 random bytes). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
