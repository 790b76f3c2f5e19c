import { decodeHex, matchIndex } from './constant-time.js';
import { hmacAll, utf8Keys } from './keys.js';
import {
  contentId,
  isFormBody,
  isRecord,
  normalizeExternalId,
  normalizeType,
  parseForm,
  parseJson,
  parseJsonText,
} from './payload.js';
import { badPayload, invalid, missing } from './rejection.js';
import { FIVE_MINUTES, type SchemeDefinition, type SchemeRequest } from './scheme.js';
import { checkWindow, parseTimestamp } from './timestamp.js';

const SIGNATURE = 'X-Slack-Signature';
const TIMESTAMP = 'X-Slack-Request-Timestamp';

/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(signingSecret, "v0:${ts}:${body}")>` with the timestamp
 * (unix s) in `X-Slack-Request-Timestamp`, 5 min window. The Events API's `url_verification` is signed
 * like any request; its challenge is answered by `handshake()` only after verification.
 */
export const slackScheme: SchemeDefinition = {
  info: {
    name: 'slack',
    secretHeaders: ['x-slack-signature'],
    defaultToleranceMs: FIVE_MINUTES,
    handshake: 'after-verify',
    requiresSecrets: true,
    authenticates: true,
    acceptedStatus: 200,
    storesRawBody: true,
  },

  prepare(secrets) {
    const keys = utf8Keys(secrets, 'slack');
    return ({ body, headers, now, toleranceMs }) => {
      const header = headers.single('x-slack-signature', SIGNATURE);
      const ts = headers.single('x-slack-request-timestamp', TIMESTAMP);
      if (!header) throw missing(`${SIGNATURE} header is missing`);
      if (!ts) throw missing(`${TIMESTAMP} header is missing`);
      const timestamp = parseTimestamp(ts, 'seconds', TIMESTAMP);
      if (!header.startsWith('v0=')) throw invalid(`${SIGNATURE} must start with "v0="`);
      const signature = decodeHex(header.slice(3), 32);
      if (!signature) throw invalid(`${SIGNATURE} is not "v0=" followed by 64 hex digits`);
      const secretIndex = matchIndex(signature, hmacAll(keys, `v0:${ts}:`, body));
      if (secretIndex < 0) throw invalid(`${SIGNATURE} does not match a configured secret`);
      checkWindow(timestamp, now, toleranceMs, TIMESTAMP);
      return { secretIndex, timestamp };
    };
  },

  parse(request) {
    const { body } = request;
    if (isForm(request)) {
      // Slash commands and interactivity post forms; neither carries an event id, and neither is retried.
      const form = parseForm(body);
      if (form.payload !== undefined) {
        const payload = parseJsonText(form.payload, 'the "payload" field');
        const type = isRecord(payload) && typeof payload.type === 'string' ? payload.type : 'interactive';
        const trigger =
          isRecord(payload) && typeof payload.trigger_id === 'string' ? payload.trigger_id : undefined;
        return [
          { externalId: normalizeExternalId(trigger ?? contentId(body)), type: normalizeType(type), payload },
        ];
      }
      const type = form.command !== undefined ? 'slash_command' : 'form';
      return [
        {
          externalId: normalizeExternalId(form.trigger_id || contentId(body)),
          type,
          payload: form,
        },
      ];
    }
    const payload = parseJson(body);
    if (!isRecord(payload)) throw badPayload('Slack request body is not a JSON object');
    if (payload.type === 'url_verification') return [];
    if (payload.type === 'event_callback') {
      if (typeof payload.event_id !== 'string' || payload.event_id === '') {
        throw badPayload('Slack event_callback has no "event_id"');
      }
      const event = payload.event;
      const type = isRecord(event) && typeof event.type === 'string' ? event.type : 'unknown';
      const time = typeof payload.event_time === 'number' && Number.isFinite(payload.event_time);
      return [
        {
          externalId: normalizeExternalId(payload.event_id),
          type: normalizeType(type),
          payload,
          ...(time && { occurredAt: (payload.event_time as number) * 1000 }),
        },
      ];
    }
    // app_rate_limited and future envelope types: keep them, typed by their envelope.
    const id =
      typeof payload.event_id === 'string' && payload.event_id !== '' ? payload.event_id : contentId(body);
    const type = typeof payload.type === 'string' ? payload.type : 'unknown';
    return [{ externalId: normalizeExternalId(id), type: normalizeType(type), payload }];
  },

  handshake(request) {
    if (isForm(request) || request.body.length === 0) return undefined;
    let payload: unknown;
    try {
      payload = parseJson(request.body);
    } catch {
      return undefined;
    }
    if (!isRecord(payload) || payload.type !== 'url_verification' || typeof payload.challenge !== 'string') {
      return undefined;
    }
    return { status: 200, contentType: 'text/plain; charset=utf-8', body: payload.challenge };
  },
};

function isForm({ body, headers }: SchemeRequest): boolean {
  return isFormBody(headers.single('content-type', 'Content-Type', badPayload), body);
}
