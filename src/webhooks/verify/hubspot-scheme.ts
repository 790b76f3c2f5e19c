import { createHash } from 'node:crypto';
import { decodeBase64, decodeHex, equalBytes } from './constant-time.js';
import { hmacSha256, requireSecrets, utf8Keys } from './keys.js';
import { isRecord, normalizeExternalId, normalizeType, parseJson } from './payload.js';
import { badPayload, invalid, missing } from './rejection.js';
import { FIVE_MINUTES, type SchemeDefinition, type SchemeRequest, type VerifyContext } from './scheme.js';
import { signedUrl, validatePublicUrl } from './signed-url.js';
import { checkWindow, parseTimestamp } from './timestamp.js';

const SECRET_HEADERS = ['x-hubspot-signature', 'x-hubspot-signature-v3'] as const;

/**
 * HubSpot signs three ways (https://developers.hubspot.com/docs/api/webhooks/validating-requests):
 * - v1: `X-HubSpot-Signature` = hex SHA-256(clientSecret + body) — a plain hash, not an HMAC;
 * - v2: the same header = hex SHA-256(clientSecret + method + uri + body), uri exactly as requested;
 * - v3: `X-HubSpot-Signature-v3` = base64 HMAC-SHA256(clientSecret, method + uri + body + timestamp),
 *   timestamp in ms in `X-HubSpot-Request-Timestamp`, uri with a few escapes decoded first.
 * v1 and v2 sign no time, so they have no replay window: dedupe is the only defence. Prefer v3.
 */
function hubspotScheme(version: 'v1' | 'v2' | 'v3'): SchemeDefinition {
  const name = `hubspot-${version}` as const;
  return {
    info: {
      name,
      secretHeaders: SECRET_HEADERS,
      defaultToleranceMs: version === 'v3' ? FIVE_MINUTES : undefined,
      handshake: 'never',
      requiresSecrets: true,
      authenticates: true,
      acceptedStatus: 200,
      storesRawBody: true,
    },

    prepare(secrets, options) {
      const publicUrl = validatePublicUrl(options.publicUrl, name);
      if (version === 'v3') {
        const keys = utf8Keys(secrets, name);
        return (ctx) => verifyV3(keys, ctx, publicUrl);
      }
      requireSecrets(secrets, name);
      const prefixes = secrets.map((s) => Buffer.from(s, 'utf8'));
      return (ctx) => verifyHash(version, prefixes, ctx, publicUrl);
    },

    parse: parseHubspotEvents,
  };
}

export const hubspotV1Scheme = hubspotScheme('v1');
export const hubspotV2Scheme = hubspotScheme('v2');
export const hubspotV3Scheme = hubspotScheme('v3');

function verifyHash(
  version: 'v1' | 'v2',
  secrets: readonly Buffer[],
  { body, headers, url, method }: VerifyContext,
  publicUrl: string | undefined,
) {
  const header = headers.single('x-hubspot-signature', 'X-HubSpot-Signature');
  if (!header) throw missing('X-HubSpot-Signature header is missing');
  const sent = headers.single('x-hubspot-signature-version', 'X-HubSpot-Signature-Version');
  if (sent !== undefined && sent !== version) {
    throw invalid(
      `X-HubSpot-Signature-Version is ${JSON.stringify(sent.slice(0, 8))}, this source expects ${version}`,
    );
  }
  const signature = decodeHex(header, 32);
  if (!signature) throw invalid('X-HubSpot-Signature is not 64 hex digits');
  const middle = version === 'v2' ? method + signedUrl(publicUrl, url, 'hubspot-v2') : '';
  for (let i = 0; i < secrets.length; i++) {
    const expected = createHash('sha256').update(secrets[i]!).update(middle).update(body).digest();
    if (equalBytes(signature, expected)) return { secretIndex: i };
  }
  throw invalid('X-HubSpot-Signature does not match a configured secret');
}

function verifyV3(keys: readonly Buffer[], ctx: VerifyContext, publicUrl: string | undefined) {
  const { body, headers, url, method, now, toleranceMs } = ctx;
  const header = headers.single('x-hubspot-signature-v3', 'X-HubSpot-Signature-v3');
  const ts = headers.single('x-hubspot-request-timestamp', 'X-HubSpot-Request-Timestamp');
  if (!header) throw missing('X-HubSpot-Signature-v3 header is missing');
  if (!ts) throw missing('X-HubSpot-Request-Timestamp header is missing');
  const timestamp = parseTimestamp(ts, 'milliseconds', 'X-HubSpot-Request-Timestamp');
  const signature = decodeBase64(header, 32);
  if (!signature) throw invalid('X-HubSpot-Signature-v3 is not a base64 SHA-256 HMAC');
  const uri = decodeHubspotUri(signedUrl(publicUrl, url, 'hubspot-v3'));
  for (let i = 0; i < keys.length; i++) {
    if (equalBytes(signature, hmacSha256(keys[i]!, method + uri, body, ts))) {
      checkWindow(timestamp, now, toleranceMs, 'X-HubSpot-Request-Timestamp');
      return { secretIndex: i, timestamp };
    }
  }
  throw invalid('X-HubSpot-Signature-v3 does not match a configured secret');
}

const DECODED: Record<string, string> = {
  '3A': ':',
  '2F': '/',
  '3F': '?',
  '40': '@',
  '21': '!',
  '24': '$',
  '27': "'",
  '28': '(',
  '29': ')',
  '2A': '*',
  '2C': ',',
  '3B': ';',
};

/** HubSpot v3 signs the URI with exactly these escapes decoded (and no others: `%20` stays). */
export function decodeHubspotUri(uri: string): string {
  return uri.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (_, hex: string) => DECODED[hex.toUpperCase()]!,
  );
}

/**
 * HubSpot posts a JSON array of events (up to 100). `eventId` alone is "not guaranteed to be unique", so
 * the dedupe key joins it with `subscriptionId` and `occurredAt`; a retry repeats all three.
 */
function parseHubspotEvents({ body }: SchemeRequest) {
  const parsed = parseJson(body);
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.map((item, i) => {
    if (!isRecord(item)) throw badPayload(`HubSpot event ${i} is not a JSON object`);
    const eventId = item.eventId;
    if ((typeof eventId !== 'number' && typeof eventId !== 'string') || eventId === '') {
      throw badPayload(`HubSpot event ${i} has no "eventId"`);
    }
    const part = (v: unknown) => (typeof v === 'number' || typeof v === 'string' ? String(v) : '');
    const type =
      typeof item.subscriptionType === 'string'
        ? item.subscriptionType
        : typeof item.eventType === 'string'
          ? item.eventType
          : 'unknown';
    const occurred = typeof item.occurredAt === 'number' && Number.isFinite(item.occurredAt);
    return {
      externalId: normalizeExternalId(
        `${part(eventId)}:${part(item.subscriptionId)}:${part(item.occurredAt)}`,
      ),
      type: normalizeType(type),
      payload: item,
      ...(occurred && { occurredAt: item.occurredAt as number }),
    };
  });
}
