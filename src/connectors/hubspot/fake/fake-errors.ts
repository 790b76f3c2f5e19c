import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/** HubSpot's error body: `{ status: "error", message, correlationId, category, … }`. */
export interface HubSpotErrorBody {
  status: 'error';
  message: string;
  correlationId: string;
  category?: string;
  subCategory?: string;
  context?: Record<string, string[]>;
  errors?: { message: string; code?: string; in?: string; context?: Record<string, string[]> }[];
  [extra: string]: unknown;
}

export function errorBody(
  message: string,
  category?: string,
  extra: Partial<HubSpotErrorBody> = {},
): HubSpotErrorBody {
  return { status: 'error', message, correlationId: randomUUID(), ...(category && { category }), ...extra };
}

export function sendError(
  reply: FastifyReply,
  status: number,
  message: string,
  category?: string,
  extra?: Partial<HubSpotErrorBody>,
): FastifyReply {
  return reply
    .status(status)
    .type('application/json;charset=utf-8')
    .send(errorBody(message, category, extra));
}

/** An error to throw from deep inside a handler; the routes answer it (`answerFailure`). */
export class HubSpotFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly category?: string,
    readonly extra: Partial<HubSpotErrorBody> = {},
  ) {
    super(message);
  }
}

export const validation = (message: string, extra?: Partial<HubSpotErrorBody>) =>
  new HubSpotFailure(400, message, 'VALIDATION_ERROR', extra);

/** One invalid property value, as HubSpot lists them inside the message of a 400. */
export interface PropertyProblem {
  isValid: false;
  message: string;
  error: string;
  name: string;
  localizedErrorMessage: string;
  portalId: number;
}

/**
 * `Property values were not valid: [{…}]` — the JSON array inside the message, which is how HubSpot
 * reports unknown properties and bad values (observed; see providers.md §1).
 */
export function propertyValuesFailure(problems: readonly PropertyProblem[]): HubSpotFailure {
  return validation(`Property values were not valid: ${JSON.stringify(problems)}`);
}

export const AUTH_MISSING =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';
