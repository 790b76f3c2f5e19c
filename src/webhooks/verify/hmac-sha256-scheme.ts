import { decodeBase64, decodeHex, matchIndex } from './constant-time.js';
import { parseGenericEvents } from './generic-events.js';
import { generic } from './generic-options.js';
import { hmacAll, utf8Keys } from './keys.js';
import { invalid, missing } from './rejection.js';
import { FIVE_MINUTES, type SchemeDefinition } from './scheme.js';
import { BODY, ID, TIMESTAMP } from './signed-content.js';
import { checkWindow, parseTimestamp } from './timestamp.js';

/**
 * A configurable HMAC-SHA256 for senders with no scheme of their own: the signature header, its encoding
 * and prefix, an optional timestamp header and the signed-content template are options (see
 * `WebhookSchemeOptions`). The key is the secret's UTF-8 bytes.
 */
export const hmacSha256Scheme: SchemeDefinition = {
  info: {
    name: 'hmac-sha256',
    secretHeaders: [],
    defaultToleranceMs: FIVE_MINUTES,
    handshake: 'never',
    requiresSecrets: true,
    authenticates: true,
    acceptedStatus: 200,
    storesRawBody: true,
  },

  prepare(secrets, options) {
    const keys = utf8Keys(secrets, 'hmac-sha256');
    const config = generic(options);
    const decode = config.encoding === 'hex' ? decodeHex : decodeBase64;
    return ({ body, headers, now, toleranceMs }) => {
      const header = headers.single(config.header);
      if (!header) throw missing(`${config.header} header is missing`);
      let timestamp: string | undefined;
      let timestampMs: number | undefined;
      if (config.timestampHeader) {
        timestamp = headers.single(config.timestampHeader);
        if (!timestamp) throw missing(`${config.timestampHeader} header is missing`);
        timestampMs = parseTimestamp(timestamp, config.timestampUnit, config.timestampHeader);
      }
      let id = '';
      if (config.usesId) {
        id = headers.single(config.idHeader) ?? '';
        if (!id) throw missing(`${config.idHeader} header is missing`);
      }
      if (!header.startsWith(config.prefix))
        throw invalid(`${config.header} must start with "${config.prefix}"`);
      const signature = decode(header.slice(config.prefix.length), 32);
      if (!signature) {
        throw invalid(`${config.header} is not a ${config.encoding} SHA-256 HMAC`);
      }
      const parts = config.template.map((part): string | Buffer =>
        part === BODY ? body : part === TIMESTAMP ? timestamp! : part === ID ? id : (part as string),
      );
      const secretIndex = matchIndex(signature, hmacAll(keys, ...parts));
      if (secretIndex < 0) throw invalid(`${config.header} does not match a configured secret`);
      if (timestampMs === undefined) return { secretIndex };
      checkWindow(timestampMs, now, toleranceMs, config.timestampHeader!);
      return { secretIndex, timestamp: timestampMs };
    };
  },

  parse: parseGenericEvents,
};
