import {
  contentId,
  isFormBody,
  isRecord,
  normalizeExternalId,
  normalizeType,
  parseForm,
  parseJson,
  valueAtPath,
} from './payload.js';
import { bodyText } from './raw-body.js';
import { badPayload } from './rejection.js';
import type { SchemeRequest } from './scheme.js';
import type { WebhookEvent, WebhookSchemeOptions } from './types.js';

/** Where a sender without a known scheme usually puts its event id. */
const DEFAULT_ID_HEADERS = ['webhook-id', 'x-request-id'];

/**
 * Events of the generic schemes (`hmac-sha256`, `none`): one event per request. The id comes from
 * `idHeader` (or `webhook-id`, then `x-request-id`), else the SHA-256 of the body, so an identical
 * repeat is a duplicate. The body is JSON when it looks like JSON (and must then parse), a form when the
 * content type says so, else text; an empty body is `null`.
 */
export function parseGenericEvents(request: SchemeRequest, options: WebhookSchemeOptions): WebhookEvent[] {
  const { body, headers } = request;
  const contentType = headers.single('content-type', 'Content-Type', badPayload);
  let payload: unknown = null;
  if (body.length > 0) {
    const first = body[0];
    if (contentType !== undefined && /^application\/x-www-form-urlencoded\b/i.test(contentType)) {
      payload = parseForm(body);
    } else if ((contentType !== undefined && /json/i.test(contentType)) || first === 0x7b || first === 0x5b) {
      payload = parseJson(body);
    } else if (contentType === undefined && isFormBody(undefined, body)) {
      payload = parseForm(body);
    } else {
      payload = bodyText(body);
    }
  }

  const idHeaders = options.idHeader ? [options.idHeader.toLowerCase()] : DEFAULT_ID_HEADERS;
  let id: string | undefined;
  for (const name of idHeaders) {
    id = headers.single(name, name, badPayload);
    if (id) break;
  }

  let type: unknown;
  const path = options.typePath;
  if (path?.startsWith('header:')) {
    const name = path.slice(7).toLowerCase();
    type = headers.single(name, name, badPayload);
  } else if (path) {
    type = valueAtPath(payload, path);
  } else if (isRecord(payload)) {
    type = payload.type;
  }
  const typeText = typeof type === 'string' || typeof type === 'number' ? String(type) : 'unknown';

  return [{ externalId: normalizeExternalId(id ?? contentId(body)), type: normalizeType(typeText), payload }];
}
