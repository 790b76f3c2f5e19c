import { createPublicKey, type KeyObject, verify as verifySignature } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { requireSecrets } from './keys.js';
import { isRecord, normalizeExternalId, normalizeType, parseJson } from './payload.js';
import { badPayload, invalid, missing } from './rejection.js';
import { FIVE_MINUTES, type SchemeDefinition } from './scheme.js';
import { checkWindow, parseTimestamp } from './timestamp.js';

const SIGNATURE = 'x-twilio-email-event-webhook-signature';
const TIMESTAMP = 'x-twilio-email-event-webhook-timestamp';
const SIGNATURE_LABEL = 'X-Twilio-Email-Event-Webhook-Signature';
const TIMESTAMP_LABEL = 'X-Twilio-Email-Event-Webhook-Timestamp';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A DER ECDSA P-256 signature is at most 72 bytes (96 base64 characters); anything longer is not one. */
const MAX_SIGNATURE_CHARS = 96;

/**
 * SendGrid's signed Event Webhook: `X-Twilio-Email-Event-Webhook-Signature` is a base64 DER ECDSA
 * P-256/SHA-256 signature over `timestamp + rawBody`, the timestamp (unix seconds) in
 * `X-Twilio-Email-Event-Webhook-Timestamp`. The body is a JSON array with `\r\n` after each event: it
 * must reach the verifier as received. Secrets are the verification keys SendGrid shows (base64 SPKI
 * DER), or the same key as PEM.
 * https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 */
export const sendgridScheme: SchemeDefinition = {
  info: {
    name: 'sendgrid',
    secretHeaders: [SIGNATURE],
    defaultToleranceMs: FIVE_MINUTES,
    handshake: 'never',
    requiresSecrets: true,
    authenticates: true,
    acceptedStatus: 200,
    storesRawBody: true,
  },

  prepare(secrets) {
    requireSecrets(secrets, 'sendgrid');
    const keys = secrets.map(publicKey);
    return ({ body, headers, now, toleranceMs }) => {
      const header = headers.single(SIGNATURE, SIGNATURE_LABEL);
      if (!header) throw missing(`${SIGNATURE_LABEL} header is missing`);
      const timestamp = headers.single(TIMESTAMP, TIMESTAMP_LABEL);
      if (!timestamp) throw missing(`${TIMESTAMP_LABEL} header is missing`);
      const timestampMs = parseTimestamp(timestamp, 'seconds', TIMESTAMP_LABEL);
      if (header.length > MAX_SIGNATURE_CHARS || !BASE64.test(header)) {
        throw invalid(`${SIGNATURE_LABEL} is not a base64 ECDSA signature`);
      }
      const signature = Buffer.from(header, 'base64');
      // Buffer's decoder forgives extra padding and stray bits; a signature is taken only as written.
      if (signature.toString('base64') !== header) {
        throw invalid(`${SIGNATURE_LABEL} is not a base64 ECDSA signature`);
      }
      const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
      // A signature that is not valid DER makes verify() return false (it does not throw).
      const secretIndex = keys.findIndex((key) => verifySignature('sha256', signed, key, signature));
      if (secretIndex < 0) throw invalid(`${SIGNATURE_LABEL} does not match a configured verification key`);
      checkWindow(timestampMs, now, toleranceMs, TIMESTAMP_LABEL);
      return { secretIndex, timestamp: timestampMs };
    };
  },

  parse({ body }) {
    const payload = parseJson(body);
    if (!Array.isArray(payload)) throw badPayload('SendGrid posts a JSON array of events');
    return payload.map((event, i) => {
      if (!isRecord(event)) throw badPayload(`SendGrid event ${i} is not a JSON object`);
      if (typeof event.sg_event_id !== 'string' || event.sg_event_id === '') {
        throw badPayload(`SendGrid event ${i} has no "sg_event_id"`);
      }
      const occurred = typeof event.timestamp === 'number' && Number.isFinite(event.timestamp);
      return {
        externalId: normalizeExternalId(event.sg_event_id),
        type: normalizeType(typeof event.event === 'string' ? event.event : 'unknown'),
        payload: event,
        ...(occurred && { occurredAt: (event.timestamp as number) * 1000 }),
      };
    });
  },
};

/** A P-256 public key from SendGrid's base64 SPKI DER text, or PEM; anything else names the secret. */
function publicKey(secret: string, index: number): KeyObject {
  const text = secret.trim();
  let key: KeyObject | undefined;
  try {
    if (text.startsWith('-----BEGIN PUBLIC KEY-----')) key = createPublicKey(text);
    else if (BASE64.test(text))
      key = createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `secrets[${index}] is not a SendGrid verification key (base64 SPKI DER or PEM of an ECDSA P-256 public key)`,
    );
  }
  return key;
}
