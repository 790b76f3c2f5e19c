import { createPublicKey, type KeyObject, verify as verifySignature } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { decodeBase64, matchIndex } from './constant-time.js';
import { hmacAll, requireSecrets } from './keys.js';
import { isRecord, normalizeExternalId, normalizeType, parseJson } from './payload.js';
import { badPayload, invalid, missing } from './rejection.js';
import type { RequestHeaders } from './request-headers.js';
import { FIVE_MINUTES, type SchemeDefinition } from './scheme.js';
import { checkWindow, parseTimestamp } from './timestamp.js';

/** More entries than this in `webhook-signature` is not a rotation, it is an attempt to make us work. */
const MAX_SIGNATURES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface Keys {
  hmac: Array<{ key: Buffer; index: number }>;
  ed25519: Array<{ key: KeyObject; index: number }>;
}

/**
 * Standard Webhooks v1 (https://www.standardwebhooks.com): `webhook-signature` holds space-separated
 * `v1,<base64 HMAC-SHA256>` and `v1a,<base64 ed25519>` entries over `${id}.${timestamp}.${body}`; other
 * versions are skipped. Secrets: `whsec_…` (HMAC) and `whpk_…` (ed25519 public key) may be mixed.
 * Svix's `svix-*` header names are accepted when no `webhook-*` header is present.
 */
export const standardWebhooksScheme: SchemeDefinition = {
  info: {
    name: 'standard-webhooks',
    secretHeaders: ['webhook-signature', 'svix-signature'],
    defaultToleranceMs: FIVE_MINUTES,
    handshake: 'never',
    requiresSecrets: true,
    authenticates: true,
    acceptedStatus: 200,
    storesRawBody: true,
  },

  prepare(secrets) {
    requireSecrets(secrets, 'standard-webhooks');
    const keys: Keys = { hmac: [], ed25519: [] };
    secrets.forEach((secret, index) => {
      if (secret.startsWith('whpk_')) {
        const raw = BASE64.test(secret.slice(5)) ? Buffer.from(secret.slice(5), 'base64') : undefined;
        if (raw?.length !== 32) {
          throw new PatchbayError(
            ErrorCode.INVALID_ARGUMENT,
            `secrets[${index}] is not an ed25519 public key ("whpk_" + base64 of 32 bytes)`,
          );
        }
        const key = createPublicKey({
          key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
          format: 'jwk',
        });
        keys.ed25519.push({ key, index });
      } else if (secret.startsWith('whsk_')) {
        throw new PatchbayError(
          ErrorCode.INVALID_ARGUMENT,
          `secrets[${index}] is an ed25519 signing key ("whsk_"): a receiver needs only the public key ("whpk_")`,
        );
      } else {
        const text = secret.startsWith('whsec_') ? secret.slice(6) : secret;
        if (!BASE64.test(text)) {
          throw new PatchbayError(
            ErrorCode.INVALID_ARGUMENT,
            `secrets[${index}] is not a Standard Webhooks secret ("whsec_" + base64)`,
          );
        }
        keys.hmac.push({ key: createSecretKeyFrom(Buffer.from(text, 'base64'), index), index });
      }
    });

    const hmacKeys = keys.hmac.map((k) => k.key);
    return ({ body, headers, now, toleranceMs }) => {
      const names = headerNames(headers);
      const signature = headers.single(names.signature);
      const id = headers.single(names.id);
      const timestamp = headers.single(names.timestamp);
      if (!signature) throw missing(`${names.signature} header is missing`);
      if (!id) throw missing(`${names.id} header is missing`);
      if (!timestamp) throw missing(`${names.timestamp} header is missing`);
      const timestampMs = parseTimestamp(timestamp, 'seconds', names.timestamp);

      const entries = signature.split(' ').filter((e) => e !== '');
      if (entries.length > MAX_SIGNATURES) {
        throw invalid(`${names.signature} holds more than ${MAX_SIGNATURES} signatures`);
      }
      const v1: Buffer[] = [];
      const v1a: Buffer[] = [];
      for (const entry of entries) {
        const comma = entry.indexOf(',');
        if (comma < 0) continue;
        const version = entry.slice(0, comma);
        if (version === 'v1') {
          const sig = decodeBase64(entry.slice(comma + 1), 32);
          if (sig) v1.push(sig);
        } else if (version === 'v1a') {
          const sig = decodeBase64(entry.slice(comma + 1), 64);
          if (sig) v1a.push(sig);
        }
      }
      if (v1.length === 0 && v1a.length === 0) {
        throw invalid(`${names.signature} has no well-formed v1 or v1a signature`);
      }

      let secretIndex = -1;
      if (v1.length > 0 && hmacKeys.length > 0) {
        const expected = hmacAll(hmacKeys, `${id}.${timestamp}.`, body);
        for (const candidate of v1) {
          const i = matchIndex(candidate, expected);
          if (i >= 0) {
            secretIndex = keys.hmac[i]!.index;
            break;
          }
        }
      }
      if (secretIndex < 0 && v1a.length > 0 && keys.ed25519.length > 0) {
        const content = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
        outer: for (const candidate of v1a) {
          for (const { key, index } of keys.ed25519) {
            if (verifySignature(null, content, key, candidate)) {
              secretIndex = index;
              break outer;
            }
          }
        }
      }
      if (secretIndex < 0) throw invalid(`no signature in ${names.signature} matches a configured secret`);
      checkWindow(timestampMs, now, toleranceMs, names.timestamp);
      return { secretIndex, timestamp: timestampMs };
    };
  },

  parse({ body, headers }) {
    const names = headerNames(headers);
    const id = headers.single(names.id, names.id, badPayload);
    if (!id) throw badPayload(`${names.id} header is missing`);
    const payload = parseJson(body);
    // The spec's payload is `{ type, timestamp, data }`; the timestamp there is when the event happened.
    const type = isRecord(payload) && typeof payload.type === 'string' ? payload.type : 'unknown';
    let occurredAt: number | undefined;
    if (isRecord(payload) && typeof payload.timestamp === 'string') {
      const parsed = Date.parse(payload.timestamp);
      if (Number.isFinite(parsed)) occurredAt = parsed;
    }
    if (occurredAt === undefined) {
      const header = headers.single(names.timestamp, names.timestamp, badPayload);
      if (header && /^[0-9]{1,12}$/.test(header)) occurredAt = Number(header) * 1000;
    }
    return [
      {
        externalId: normalizeExternalId(id),
        type: normalizeType(type),
        payload,
        ...(occurredAt !== undefined && { occurredAt }),
      },
    ];
  },
};

function headerNames(headers: RequestHeaders) {
  const svix =
    !headers.has('webhook-signature') && !headers.has('webhook-id') && headers.has('svix-signature');
  const prefix = svix ? 'svix-' : 'webhook-';
  return { id: `${prefix}id`, timestamp: `${prefix}timestamp`, signature: `${prefix}signature` };
}

function createSecretKeyFrom(raw: Buffer, index: number): Buffer {
  if (raw.length === 0) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `secrets[${index}] decodes to an empty key`);
  }
  return raw;
}
