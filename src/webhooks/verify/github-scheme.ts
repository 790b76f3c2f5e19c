import { decodeHex, matchIndex } from './constant-time.js';
import { hmacAll, utf8Keys } from './keys.js';
import {
  isFormBody,
  isRecord,
  normalizeExternalId,
  normalizeType,
  parseForm,
  parseJson,
  parseJsonText,
} from './payload.js';
import { badPayload, invalid, missing } from './rejection.js';
import type { SchemeDefinition } from './scheme.js';

const HEADER = 'x-hub-signature-256';
const LABEL = 'X-Hub-Signature-256';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`. No timestamp is signed, so there
 * is no replay window: dedupe on `X-GitHub-Delivery` (a redelivery keeps it) is the replay defence.
 * The legacy SHA-1 `X-Hub-Signature` is never accepted.
 */
export const githubScheme: SchemeDefinition = {
  info: {
    name: 'github',
    secretHeaders: [HEADER, 'x-hub-signature'],
    defaultToleranceMs: undefined,
    handshake: 'never',
    requiresSecrets: true,
    authenticates: true,
    acceptedStatus: 200,
    storesRawBody: true,
  },

  prepare(secrets) {
    const keys = utf8Keys(secrets, 'github');
    return ({ body, headers }) => {
      const header = headers.single(HEADER, LABEL);
      if (!header) {
        throw missing(
          headers.has('x-hub-signature')
            ? `${LABEL} header is missing (the SHA-1 X-Hub-Signature is not accepted)`
            : `${LABEL} header is missing`,
        );
      }
      if (!header.startsWith('sha256=')) throw invalid(`${LABEL} must start with "sha256="`);
      const signature = decodeHex(header.slice(7), 32);
      if (!signature) throw invalid(`${LABEL} is not "sha256=" followed by 64 hex digits`);
      const secretIndex = matchIndex(signature, hmacAll(keys, body));
      if (secretIndex < 0) throw invalid(`${LABEL} does not match a configured secret`);
      return { secretIndex };
    };
  },

  parse({ body, headers }) {
    const delivery = headers.single('x-github-delivery', 'X-GitHub-Delivery', badPayload);
    if (!delivery) throw badPayload('X-GitHub-Delivery header is missing');
    const event = headers.single('x-github-event', 'X-GitHub-Event', badPayload);
    if (!event) throw badPayload('X-GitHub-Event header is missing');
    // A hook may be configured with `application/x-www-form-urlencoded`: the JSON is then the `payload` field.
    let payload: unknown;
    if (isFormBody(headers.single('content-type', 'Content-Type', badPayload), body)) {
      const form = parseForm(body);
      if (form.payload === undefined) throw badPayload('form body has no "payload" field');
      payload = parseJsonText(form.payload, 'the "payload" field');
    } else {
      payload = parseJson(body);
    }
    const action = isRecord(payload) && typeof payload.action === 'string' ? `.${payload.action}` : '';
    return [{ externalId: normalizeExternalId(delivery), type: normalizeType(event + action), payload }];
  },
};
