import {
  boolean,
  integer,
  nullable,
  number,
  object,
  oneOfValues,
  string,
  time,
} from '../../core/api/schemas.js';

/** Response schemas of the destination and delivery routes: the shapes of delivery-views.ts. */

export const destinationSchema = object(
  {
    id: string,
    kind: oneOfValues(['http', 'handler']),
    origin: oneOfValues(['config', 'api', 'handler']),
    url: { type: 'string', description: 'Origin and path; a query string shows as ?….' },
    secrets: { type: 'integer', description: 'How many signing secrets (never the secrets).' },
    headers: { type: 'array', items: string, description: 'Header names only.' },
    format: {
      ...oneOfValues(['event', 'slack', 'email']),
      description: 'The body: the event envelope, {text} for Slack, or an e-mail (smtp/smtps urls).',
    },
    email: {
      ...object({
        from: string,
        to: { type: 'array', items: string },
        username: nullable(string),
        password: { type: 'boolean', description: 'Whether an SMTP password is set (never the password).' },
      }),
      description: 'Sender, recipients and SMTP login of an e-mail destination.',
    },
    events: nullable({ type: 'array', items: string }),
    ordered: boolean,
    rateLimit: nullable(
      object({ perSecond: number, maxConcurrent: integer }, ['perSecond', 'maxConcurrent']),
    ),
    breaker: {
      description: '"off", "default", or the breaker settings.',
      anyOf: [string, { type: 'object' }],
    },
    timeoutMs: integer,
    status: oneOfValues(['enabled', 'disabled']),
    disabledReason: nullable(string),
    disabledAt: nullable(time),
    failingSince: nullable(time),
  },
  ['url', 'secrets', 'headers', 'format', 'email'],
);

export const createdDestinationSchema = {
  ...destinationSchema,
  properties: {
    ...(destinationSchema.properties as object),
    secret: { type: 'string', description: 'The generated signing secret, returned this once.' },
  },
};

export const deliverySchema = object({
  id: string,
  eventId: string,
  destinationId: string,
  status: oneOfValues(['pending', 'succeeded', 'failed']),
  attempts: integer,
  nextAttemptAt: nullable(time),
  lastStatus: nullable(integer),
  lastError: nullable(string),
  createdAt: time,
  succeededAt: nullable(time),
});

export const attemptSchema = object({
  attempt: integer,
  trigger: oneOfValues(['scheduled', 'manual']),
  outcome: oneOfValues(['succeeded', 'failed']),
  url: string,
  startedAt: time,
  durationMs: integer,
  statusCode: nullable(integer),
  errorCode: nullable(string),
  errorMessage: nullable(string),
  responseHeaders: nullable({ type: 'object', additionalProperties: string }),
  responseBody: nullable(string),
});

export const deliveryDetailSchema = {
  ...deliverySchema,
  required: [...(deliverySchema.required as string[]), 'attemptLog'],
  properties: {
    ...(deliverySchema.properties as object),
    attemptLog: { type: 'array', items: attemptSchema },
  },
};

export const secretsSchema = object({
  id: string,
  secrets: { type: 'array', items: string, description: 'Standard Webhooks secrets (whsec_…).' },
});

export const recoveredSchema = object({ replayed: integer });
