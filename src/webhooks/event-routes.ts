import type { FastifyInstance } from 'fastify';
import { decodeCursor, pageQuerySchema, parseSince, toPage } from '../core/api/pagination.js';
import { anyJson, integer, nullable, object, pageOf, string, time } from '../core/api/schemas.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { deliverySchema } from './delivery/delivery-schemas.js';
import { eventDetail, eventSummary } from './event-views.js';
import type { EventsService } from './events-module.js';

const eventSummarySchema = object({
  id: string,
  source: string,
  externalId: nullable(string),
  type: string,
  receivedAt: time,
  occurredAt: nullable(time),
  duplicates: integer,
  verification: { type: 'string', description: 'How the request was verified (the scheme, or none).' },
  size: { type: 'integer', description: 'Body size in bytes.' },
});

const eventDetailSchema = object(
  {
    ...(eventSummarySchema.properties as Record<string, object>),
    requestId: nullable(string),
    contentType: nullable(string),
    headers: {
      type: 'object',
      additionalProperties: string,
      description: 'Credential headers are not kept.',
    },
    lastDuplicateAt: nullable(time),
    payload: { ...anyJson, description: 'The body: parsed JSON, or text.' },
    bodyBase64: { type: 'string', description: 'The body, when it is not UTF-8 text.' },
    deliveries: { type: 'array', items: deliverySchema },
  },
  ['payload', 'bodyBase64'],
);

const publishedSchema = object({
  id: string,
  duplicate: { type: 'boolean', description: 'True when the idempotencyKey matched an earlier event.' },
});

interface ListQuery {
  source?: string;
  type?: string;
  since?: string;
  cursor?: string;
  limit: number;
}

/** `/api/v1/events`: the event log, one event with its deliveries, and publishing. */
export async function eventRoutes(
  app: FastifyInstance,
  events: EventsService,
  deliveriesOf: (eventId: string) => Promise<readonly object[]>,
  clock: Clock,
): Promise<void> {
  app.get<{ Querystring: ListQuery }>(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary:
          'The event log, oldest first; filter by source, type (a trailing * matches a prefix) and time.',
        operationId: 'listEvents',
        response: { 200: pageOf(eventSummarySchema) },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            source: { type: 'string', maxLength: 64 },
            type: { type: 'string', maxLength: 200 },
            since: {
              type: 'string',
              maxLength: 40,
              description: 'ISO date-time, epoch ms, or a duration ago (2h, 7d)',
            },
            ...pageQuerySchema,
          },
        },
      },
    },
    async (request) => {
      const { source, type, since, cursor, limit } = request.query;
      const rows = await events.list({
        ...(source !== undefined && { source }),
        ...(type !== undefined && { type }),
        ...(since !== undefined && { since: parseSince(since, clock.now())! }),
        ...(cursor !== undefined && { after: decodeCursor(cursor)! }),
        limit,
      });
      const page = toPage(rows, limit);
      return { data: page.data.map(eventSummary), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'One event with its headers, payload and deliveries.',
        operationId: 'getEvent',
        response: { 200: eventDetailSchema },
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 100 } }, required: ['id'] },
      },
    },
    async (request) => {
      const event = await events.get(request.params.id);
      if (!event) throw new PatchbayError(ErrorCode.NOT_FOUND, `no event ${request.params.id}`);
      return { ...eventDetail(event), deliveries: await deliveriesOf(event.id) };
    },
  );

  app.post<{ Body: { type: string; payload?: unknown; idempotencyKey?: string; source?: string } }>(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Publish an event (source "api"); repeating an idempotencyKey returns the original event.',
        operationId: 'publishEvent',
        response: {
          200: { ...publishedSchema, description: 'An event with this idempotencyKey was published before.' },
          201: { ...publishedSchema, description: 'Published.' },
        },
        body: {
          type: 'object',
          required: ['type'],
          additionalProperties: false,
          properties: {
            type: { type: 'string', minLength: 1, maxLength: 200 },
            payload: {},
            idempotencyKey: { type: 'string', minLength: 1, maxLength: 200 },
            source: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
      },
    },
    async (request, reply) => {
      const { source } = request.body;
      // Events published over the API are the API's: a webhook source's or Patchbay's name is not theirs.
      if (source !== undefined && source !== 'api') {
        throw new PatchbayError(
          ErrorCode.INVALID_ARGUMENT,
          `source: events published through the API have source "api"; got ${JSON.stringify(source)}`,
        );
      }
      const result = await events.publish({ ...request.body, payload: request.body.payload ?? null });
      return reply.status(result.duplicate ? 200 : 201).send(result);
    },
  );
}
