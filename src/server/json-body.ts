import type { FastifyInstance } from 'fastify';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../core/json-depth.js';

/**
 * JSON bodies for the admin API: Fastify's parser (prototype poisoning refused), plus an empty body read
 * as no body — state changes must carry `content-type: application/json` even when they send nothing —
 * and nesting deeper than 64 levels refused with a 400 before any handler sees it (5,000 levels once
 * overflowed the stack in `JSON.stringify` and answered 500).
 */
export function useJsonBody(scope: FastifyInstance): void {
  const parse = scope.getDefaultJsonParser('error', 'error');
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser(
    /^application\/(?:[\w.+-]+\+)?json$/i,
    { parseAs: 'string' },
    (request, body, done) => {
      if (body === '') {
        done(null, undefined);
        return;
      }
      parse(request, body as string, (err, value) => {
        if (err) {
          done(err, undefined);
          return;
        }
        if (nestsDeeperThan(value)) {
          done(
            new PatchbayError(
              ErrorCode.INVALID_ARGUMENT,
              `body: JSON nests deeper than ${MAX_JSON_DEPTH} levels`,
            ),
            undefined,
          );
          return;
        }
        done(null, value);
      });
    },
  );
}
