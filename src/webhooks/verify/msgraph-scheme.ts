import { matchIndex } from './constant-time.js';
import { requireSecrets } from './keys.js';
import { canonicalJson, contentId, isRecord, normalizeType, parseJson } from './payload.js';
import { badPayload, invalid, missing } from './rejection.js';
import type { SchemeDefinition, SchemeRequest } from './scheme.js';

/** Graph's tokens are a few hundred characters; anything far longer is not a validation request. */
const MAX_TOKEN_LENGTH = 4096;

/**
 * Microsoft Graph change notifications carry no signature. Two things authenticate them instead
 * (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks):
 * - the subscription handshake: a POST to `notificationUrl?validationToken=…` answered 200 `text/plain`
 *   with the decoded token within 10 s (before any secret exists to check, so `handshake` runs first);
 * - `clientState`, set at subscription time, repeated in every notification of `value[]`: each one must
 *   match a configured secret. One POST may mix subscriptions, so each is checked on its own.
 * Lifecycle notifications (`lifecycleEvent`) arrive the same way and become `lifecycle.<event>` events.
 */
export const msgraphScheme: SchemeDefinition = {
  info: {
    name: 'msgraph',
    secretHeaders: [],
    defaultToleranceMs: undefined,
    handshake: 'before-verify',
    requiresSecrets: true,
    authenticates: true,
    // Any 2xx within 3 s; 202 is Graph's word for "stored, processed later" (the delivery doc above).
    acceptedStatus: 202,
    // clientState is a secret inside the body: the stored payload is the parsed one, without it.
    storesRawBody: false,
  },

  prepare(secrets) {
    requireSecrets(secrets, 'msgraph');
    const states = secrets.map((s) => Buffer.from(s, 'utf8'));
    return (request) => {
      if (validationToken(request) !== undefined) {
        throw badPayload('this is a Graph validation request: answer it with handshake()');
      }
      const notifications = notificationsOf(request);
      let secretIndex = -1;
      notifications.forEach((notification, i) => {
        const state = (notification as Record<string, unknown>).clientState;
        if (typeof state !== 'string' || state === '') throw missing(`notification ${i} has no clientState`);
        const index = matchIndex(Buffer.from(state, 'utf8'), states);
        if (index < 0) throw invalid(`clientState of notification ${i} does not match a configured secret`);
        if (secretIndex < 0) secretIndex = index;
      });
      return { secretIndex };
    };
  },

  parse(request) {
    return notificationsOf(request).map((notification) => {
      // clientState is this source's secret: it never reaches the event log.
      const { clientState: _secret, ...payload } = notification;
      const lifecycle = typeof payload.lifecycleEvent === 'string' ? payload.lifecycleEvent : undefined;
      const type =
        lifecycle !== undefined
          ? `lifecycle.${lifecycle}`
          : typeof payload.changeType === 'string'
            ? payload.changeType
            : 'unknown';
      // Graph gives no notification id; a redelivery is byte-for-byte the same notification.
      return { externalId: contentId(canonicalJson(payload)), type: normalizeType(type), payload };
    });
  },

  handshake(request) {
    const token = validationToken(request);
    if (token === undefined) return undefined;
    return { status: 200, contentType: 'text/plain; charset=utf-8', body: token };
  },
};

function notificationsOf({ body }: SchemeRequest): Array<Record<string, unknown>> {
  const parsed = parseJson(body);
  if (!isRecord(parsed) || !Array.isArray(parsed.value)) {
    throw badPayload('Graph notification body has no "value" array');
  }
  if (parsed.value.length === 0) throw badPayload('Graph notification "value" array is empty');
  parsed.value.forEach((n, i) => {
    if (!isRecord(n)) throw badPayload(`notification ${i} is not a JSON object`);
  });
  return parsed.value as Array<Record<string, unknown>>;
}

/** The decoded `validationToken` of a validation POST, or `undefined` when this is not one. */
function validationToken({ url, method }: SchemeRequest): string | undefined {
  if (method !== 'POST' || url === undefined) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const tokens = new URLSearchParams(url.slice(q + 1).split('#')[0]).getAll('validationToken');
  if (tokens.length !== 1) return undefined;
  const token = tokens[0]!;
  if (token === '' || token.length > MAX_TOKEN_LENGTH) return undefined;
  return token;
}
