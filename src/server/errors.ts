import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../core/api/error-body.js';
import { ErrorCode, isPatchbayError } from '../core/errors.js';

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.INVALID_ARGUMENT]: 400,
  [ErrorCode.CONFIG_INVALID]: 400,
  [ErrorCode.PAYLOAD_INVALID]: 400,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.ORIGIN_NOT_ALLOWED]: 403,
  [ErrorCode.REQUEST_TIMEOUT]: 408,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.HOST_NOT_ALLOWED]: 421,
  [ErrorCode.HEADERS_TOO_LARGE]: 431,
  [ErrorCode.OVERLOADED]: 503,
  [ErrorCode.SIGNATURE_INVALID]: 401,
  [ErrorCode.SIGNATURE_MISSING]: 401,
  [ErrorCode.TIMESTAMP_OUT_OF_RANGE]: 401,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.SSRF_BLOCKED]: 400,
  [ErrorCode.INSECURE_URL]: 400,
  [ErrorCode.STORE_UNAVAILABLE]: 503,
  [ErrorCode.NEEDS_REAUTH]: 409,
  [ErrorCode.OAUTH_ERROR]: 502,
  [ErrorCode.NETWORK_ERROR]: 502,
  [ErrorCode.TIMEOUT]: 504,
};

/**
 * 5xx whose messages help the caller and hold no secret: failures of a provider Patchbay called, and
 * the passing ones (a limit reached, the store busy) that a client retries.
 */
const EXPLAINED_CODES = new Set<ErrorCode>([
  ErrorCode.OAUTH_ERROR,
  ErrorCode.NETWORK_ERROR,
  ErrorCode.TIMEOUT,
  ErrorCode.OVERLOADED,
  ErrorCode.STORE_UNAVAILABLE,
]);

/** Answers a client should retry: they carry `Retry-After` (webhook senders retry a 503). */
const RETRY_CODES = new Set<ErrorCode>([ErrorCode.OVERLOADED, ErrorCode.STORE_UNAVAILABLE]);

export { type ErrorBody, errorBody } from '../core/api/error-body.js';

/**
 * One error shape for every route: `{ error: { code, message, requestId } }`. Bad input is a 4xx naming
 * what is wrong; anything unexpected is a 500 whose details stay in the log, under the request id.
 */
export function handleError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (isPatchbayError(err)) {
    const status = STATUS_BY_CODE[err.code] ?? 500;
    const explained = status < 500 || EXPLAINED_CODES.has(err.code);
    if (!explained) request.log.error({ err }, 'request failed');
    // An overloaded server counts its 503s (the request histogram) rather than logging each one.
    else if (err.code === ErrorCode.STORE_UNAVAILABLE) request.log.warn({ code: err.code }, err.message);
    if (RETRY_CODES.has(err.code)) {
      reply.header('retry-after', String(Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000))));
    }
    void reply.status(status).send(errorBody(request, err.code, explained ? err.message : 'internal error'));
    return;
  }
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    const message = err.validation
      .map((v) => {
        const path = `${where}${v.instancePath ? v.instancePath.replace(/\//g, '.') : ''}`;
        const unknown = (v.params as { additionalProperty?: unknown } | undefined)?.additionalProperty;
        if (v.keyword === 'additionalProperties' && typeof unknown === 'string') {
          const name = unknown.length > 64 ? `${unknown.slice(0, 64)}…` : unknown;
          return `${path}: unknown ${where === 'querystring' ? 'parameter' : 'field'} ${JSON.stringify(name)}`;
        }
        return `${path}: ${v.message ?? 'is invalid'}`;
      })
      .join('; ');
    void reply.status(400).send(errorBody(request, ErrorCode.INVALID_ARGUMENT, message));
    return;
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    void reply.status(status).send(errorBody(request, err.code ?? 'BAD_REQUEST', err.message));
    return;
  }
  request.log.error({ err }, 'request failed');
  void reply
    .status(500)
    .send(
      errorBody(
        request,
        ErrorCode.INTERNAL,
        `internal error; the log has details under request id ${request.id}`,
      ),
    );
}

/**
 * Errors Fastify's router raises before any route or hook runs (a path segment longer than the router
 * allows, a malformed percent-encoding): the same error shape as every other answer, and a message that
 * does not echo a path which may be 100 kB long.
 */
export function handleFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  void reply
    .header('x-request-id', request.id)
    .status(tooLong ? 414 : 400)
    .send(
      errorBody(
        request,
        ErrorCode.INVALID_ARGUMENT,
        tooLong
          ? `a path segment is longer than ${MAX_PARAM_LENGTH} characters`
          : 'the path is not a valid URL (malformed percent-encoding)',
      ),
    );
}

/** Longest path parameter the router accepts (ids are far shorter). */
export const MAX_PARAM_LENGTH = 200;
