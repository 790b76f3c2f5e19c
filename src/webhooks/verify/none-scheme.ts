import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { parseGenericEvents } from './generic-events.js';
import type { SchemeDefinition } from './scheme.js';

/** No verification at all, for trusted networks and tests; refused unless `options.insecure` is `true`. */
export const noneScheme: SchemeDefinition = {
  info: {
    name: 'none',
    secretHeaders: [],
    defaultToleranceMs: undefined,
    handshake: 'never',
    requiresSecrets: false,
    authenticates: false,
    acceptedStatus: 200,
    storesRawBody: true,
  },

  prepare(_secrets, options) {
    if (options.insecure !== true) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        'scheme "none" accepts unsigned requests: set options.insecure to true to confirm',
      );
    }
    return () => ({ secretIndex: -1 });
  },

  parse: parseGenericEvents,
};
