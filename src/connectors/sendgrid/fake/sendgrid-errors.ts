import type { FastifyReply } from 'fastify';

/** One entry of SendGrid's error body. `field` and `help` are `null` when SendGrid has none to give. */
export interface SendGridError {
  message: string;
  field: string | null;
  help: string | null;
}

/** SendGrid's v3 error body: `{"errors":[{"message","field","help"}]}`, whatever the status. */
export function sendErrors(reply: FastifyReply, status: number, errors: readonly SendGridError[]) {
  return reply.status(status).type('application/json').send({ errors });
}

export function sendError(reply: FastifyReply, status: number, message: string, field: string | null = null) {
  return sendErrors(reply, status, [{ message, field, help: null }]);
}

const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';

/** A mail-send validation error, with the help link SendGrid gives for the field. */
export function mailError(message: string, field: string | null, anchor: string): SendGridError {
  return { message, field, help: `${HELP}#${anchor}` };
}

/** The texts SendGrid answers with outside validation (providers-more.md §3). */
export const MESSAGES = {
  authorizationRequired: 'authorization required',
  invalidGrant: 'The provided authorization grant is invalid, expired, or revoked',
  forbidden: 'access forbidden',
  tooManyRequests: 'too many requests',
  badRequest: 'Bad Request',
  notAcceptable: 'Accept header must be application/json',
  notFound: 'resource not found',
} as const;
