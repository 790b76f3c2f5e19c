import type { FastifyReply } from 'fastify';

export const REST_DOCS = 'https://docs.github.com/rest';

/**
 * GitHub's error body: `{ message, documentation_url, status }` (the status as a string), plus
 * `errors` on a 422. https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api
 */
export function sendError(
  reply: FastifyReply,
  status: number,
  message: string,
  documentationUrl = REST_DOCS,
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply
    .status(status)
    .send({ message, ...extra, documentation_url: documentationUrl, status: String(status) });
}

export const notFound = (reply: FastifyReply) => sendError(reply, 404, 'Not Found');

/** A 422 naming the resource and field, with GitHub's codes (`missing_field`, `invalid`…). */
export function validationFailed(
  reply: FastifyReply,
  resource: string,
  field: string,
  code: 'missing_field' | 'invalid' | 'already_exists' | 'custom',
  documentationUrl = REST_DOCS,
  message?: string,
): FastifyReply {
  return sendError(reply, 422, 'Validation Failed', documentationUrl, {
    errors: [{ resource, field, code, ...(message && { message }) }],
  });
}
