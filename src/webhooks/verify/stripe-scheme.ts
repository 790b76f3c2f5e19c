import { decodeHex, matchIndex } from './constant-time.js';
import { hmacAll, utf8Keys } from './keys.js';
import { isRecord, normalizeExternalId, normalizeType, parseJson } from './payload.js';
import { badPayload, invalid, missing } from './rejection.js';
import { FIVE_MINUTES, type SchemeDefinition } from './scheme.js';
import { checkWindow, parseTimestamp } from './timestamp.js';

const LABEL = 'Stripe-Signature';

/**
 * Stripe: `Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "${t}.${body}")>[,v1=…]`. The key is
 * the whole `whsec_…` string as UTF-8 (not base64-decoded). Several `v1` entries are allowed (Stripe rolls
 * secrets that way); other schemes (`v0`) are ignored. Unlike stripe-node, a timestamp in the future
 * beyond the window is refused too.
 */
export const stripeScheme: SchemeDefinition = {
  info: {
    name: 'stripe',
    secretHeaders: ['stripe-signature'],
    defaultToleranceMs: FIVE_MINUTES,
    handshake: 'never',
    requiresSecrets: true,
    authenticates: true,
    acceptedStatus: 200,
    storesRawBody: true,
  },

  prepare(secrets) {
    const keys = utf8Keys(secrets, 'stripe');
    return ({ body, headers, now, toleranceMs }) => {
      const header = headers.single('stripe-signature', LABEL);
      if (!header) throw missing(`${LABEL} header is missing`);
      let t: string | undefined;
      const signatures: Buffer[] = [];
      for (const item of header.split(',')) {
        const eq = item.indexOf('=');
        if (eq < 0) throw invalid(`${LABEL} is malformed (an entry without "=")`);
        const key = item.slice(0, eq).trim();
        const value = item.slice(eq + 1).trim();
        if (key === 't') {
          if (t !== undefined) throw invalid(`${LABEL} has more than one t=`);
          t = value;
        } else if (key === 'v1') {
          const signature = decodeHex(value, 32);
          if (signature) signatures.push(signature);
        }
      }
      if (t === undefined) throw invalid(`${LABEL} has no t= timestamp`);
      const timestamp = parseTimestamp(t, 'seconds', `${LABEL} t=`);
      if (signatures.length === 0) throw invalid(`${LABEL} has no well-formed v1 signature`);
      const expected = hmacAll(keys, `${t}.`, body);
      let secretIndex = -1;
      for (const signature of signatures) {
        secretIndex = matchIndex(signature, expected);
        if (secretIndex >= 0) break;
      }
      if (secretIndex < 0) throw invalid(`no v1 signature in ${LABEL} matches a configured secret`);
      checkWindow(timestamp, now, toleranceMs, `${LABEL} t=`);
      return { secretIndex, timestamp };
    };
  },

  parse({ body }) {
    const payload = parseJson(body);
    if (!isRecord(payload)) throw badPayload('Stripe event is not a JSON object');
    if (typeof payload.id !== 'string' || payload.id === '') throw badPayload('Stripe event has no "id"');
    if (typeof payload.type !== 'string' || payload.type === '')
      throw badPayload('Stripe event has no "type"');
    const created = typeof payload.created === 'number' && Number.isFinite(payload.created);
    return [
      {
        externalId: normalizeExternalId(payload.id),
        type: normalizeType(payload.type),
        payload,
        ...(created && { occurredAt: (payload.created as number) * 1000 }),
      },
    ];
  },
};
