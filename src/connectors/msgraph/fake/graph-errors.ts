import { randomUUID } from 'node:crypto';

/**
 * An error Graph answers with, thrown inside a route and written at the boundary as
 * `{ error: { code, message, innerError: { date, request-id, client-request-id } } }` (G5, errors.md).
 */
export class GraphFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers (`Retry-After`, `Location`, `WWW-Authenticate`). */
    readonly headers: Record<string, string> = {},
    /** Fields merged into `innerError` (the 429 body carries `code` and `status` there). */
    readonly inner: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = 'BadRequest') => new GraphFault(400, code, message);

export const notFound = (
  message = 'The specified object was not found in the store.',
  code = 'ErrorItemNotFound',
) => new GraphFault(404, code, message);

export const accessDenied = () =>
  new GraphFault(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');

/** Graph's answer to a path segment it does not know: a 400, not a 404. */
export const unknownSegment = (segment: string) =>
  badRequest(`Resource not found for the segment '${segment}'.`);

/** The ids every Graph answer carries: `request-id` is Graph's, `client-request-id` echoes the caller's. */
export function requestIds(headers: Record<string, string | string[] | undefined>): {
  requestId: string;
  clientRequestId: string;
} {
  const given = headers['client-request-id'];
  const clientRequestId = typeof given === 'string' && given !== '' ? given : randomUUID();
  return { requestId: randomUUID(), clientRequestId };
}

export function errorBody(
  fault: GraphFault,
  ids: { requestId: string; clientRequestId: string },
  now: number,
): Record<string, unknown> {
  return {
    error: {
      code: fault.code,
      message: fault.message,
      innerError: {
        ...fault.inner,
        date: new Date(now).toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': ids.requestId,
        'client-request-id': ids.clientRequestId,
      },
    },
  };
}
