import type { FastifyInstance } from 'fastify';
import { decodeCursor, pageQuerySchema, parseSince, toPage } from '../../core/api/pagination.js';
import { answerWithProgress } from '../../core/api/progress-answer.js';
import { bodyFromZod, listOf, noContent, pageOf } from '../../core/api/schemas.js';
import type { Clock } from '../../core/clock.js';
import { destinationSchema as configDestination } from '../../core/config/schema.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { DeliveryStatus } from '../../store/schema.js';
import type { DeliveriesService } from './deliveries-service.js';
import {
  createdDestinationSchema,
  deliveryDetailSchema,
  deliverySchema,
  destinationSchema,
  recoveredSchema,
  secretsSchema,
} from './delivery-schemas.js';
import { attemptView, deliveryView } from './delivery-views.js';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

/** `/api/v1/destinations` and `/api/v1/deliveries`. */
export async function deliveryRoutes(
  app: FastifyInstance,
  deliveries: DeliveriesService,
  clock: Clock,
): Promise<void> {
  const { destinations } = deliveries;
  const found = async <T>(id: string, view: Promise<T | undefined>): Promise<T> => {
    const value = await view;
    if (value === undefined) throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
    return value;
  };

  app.get(
    '/destinations',
    {
      schema: {
        tags: ['destinations'],
        operationId: 'listDestinations',
        summary: 'Destinations with their state.',
        response: { 200: listOf(destinationSchema) },
      },
    },
    async () => ({ data: await destinations.list() }),
  );

  app.post(
    '/destinations',
    {
      schema: {
        tags: ['destinations'],
        summary:
          'Create an HTTP destination (same fields as the configuration file); secrets and headers are encrypted at rest. Without secrets, one is generated and returned once as `secret` (later: GET /destinations/:id/secret).',
        body: { type: 'object' },
        documentedBody: bodyFromZod(configDestination),
        operationId: 'createDestination',
        response: { 201: createdDestinationSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await destinations.create(request.body)),
  );

  app.patch<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/destinations/:id',
    {
      schema: {
        tags: ['destinations'],
        summary: 'Change a destination made through the API; given fields replace the stored ones.',
        params: idParams,
        body: { type: 'object' },
        documentedBody: bodyFromZod(
          configDestination.partial(),
          'The fields to change, as in the configuration file (id excluded).',
        ),
        operationId: 'updateDestination',
        response: { 200: destinationSchema },
      },
    },
    async (request) => destinations.update(request.params.id, request.body),
  );

  app.delete<{ Params: { id: string } }>(
    '/destinations/:id',
    {
      schema: {
        tags: ['destinations'],
        summary: 'Delete a destination made through the API; its pending deliveries are dead-lettered.',
        operationId: 'deleteDestination',
        params: idParams,
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      await destinations.delete(request.params.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/destinations/:id',
    {
      schema: {
        tags: ['destinations'],
        operationId: 'getDestination',
        summary: 'One destination with its state.',
        params: idParams,
        response: { 200: destinationSchema },
      },
    },
    async (request) => found(request.params.id, destinations.get(request.params.id)),
  );

  app.get<{ Params: { id: string } }>(
    '/destinations/:id/secret',
    {
      schema: {
        tags: ['destinations'],
        summary:
          'The signing secrets of an HTTP destination (Standard Webhooks whsec_…), for the receiver to verify with.',
        operationId: 'getDestinationSecrets',
        params: idParams,
        response: { 200: secretsSchema },
      },
    },
    async (request) => ({ id: request.params.id, secrets: await destinations.secrets(request.params.id) }),
  );

  app.post<{ Params: { id: string } }>(
    '/destinations/:id/enable',
    {
      schema: {
        tags: ['destinations'],
        summary: 'Re-enable a disabled destination (clears its failure clock).',
        operationId: 'enableDestination',
        params: idParams,
        response: { 200: destinationSchema },
      },
    },
    async (request) => destinations.enable(request.params.id),
  );

  app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
    '/destinations/:id/disable',
    {
      schema: {
        tags: ['destinations'],
        summary: 'Disable a destination: new deliveries are recorded as failed until it is enabled again.',
        operationId: 'disableDestination',
        params: idParams,
        response: { 200: destinationSchema },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { reason: { type: 'string', maxLength: 500 } },
        },
      },
    },
    async (request) =>
      destinations.disable(request.params.id, request.body?.reason ?? 'disabled by an operator'),
  );

  app.post<{ Params: { id: string }; Body: { since: string; limit?: number } }>(
    '/destinations/:id/recover',
    {
      schema: {
        tags: ['destinations'],
        summary:
          'Replay the failed deliveries of a destination created since a time (at most 14 days, 10,000); Accept: application/x-ndjson streams progress lines.',
        operationId: 'recoverDestination',
        params: idParams,
        response: { 200: recoveredSchema },
        body: {
          type: 'object',
          required: ['since'],
          additionalProperties: false,
          properties: {
            since: {
              type: 'string',
              maxLength: 40,
              description: 'ISO date-time, epoch ms, or a duration ago (2h, 7d)',
            },
            limit: { type: 'integer', minimum: 1, maximum: 10000 },
          },
        },
      },
    },
    async (request, reply) => {
      await found(request.params.id, destinations.get(request.params.id));
      const since = parseSince(request.body.since, clock.now())!;
      return answerWithProgress(request, reply, (progress) =>
        deliveries.recover(request.params.id, {
          since,
          ...(request.body.limit !== undefined && { limit: request.body.limit }),
          onProgress: progress,
        }),
      );
    },
  );

  app.get<{
    Querystring: {
      destination?: string;
      status?: DeliveryStatus;
      event?: string;
      since?: string;
      cursor?: string;
      limit: number;
    };
  }>(
    '/deliveries',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Deliveries, oldest first, by destination, status, event and time.',
        operationId: 'listDeliveries',
        response: { 200: pageOf(deliverySchema) },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            destination: { type: 'string', maxLength: 100 },
            status: { type: 'string', enum: ['pending', 'succeeded', 'failed'] },
            event: { type: 'string', maxLength: 100 },
            since: { type: 'string', maxLength: 40 },
            ...pageQuerySchema,
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const since = parseSince(q.since, clock.now());
      const after = decodeCursor(q.cursor);
      const rows = await deliveries.list({
        ...(q.destination !== undefined && { destinationId: q.destination }),
        ...(q.status !== undefined && { status: q.status }),
        ...(q.event !== undefined && { eventId: q.event }),
        ...(since !== undefined && { since }),
        ...(after !== undefined && { after }),
        limit: q.limit,
      });
      const page = toPage(rows, q.limit);
      return { data: page.data.map(deliveryView), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/deliveries/:id',
    {
      schema: {
        tags: ['deliveries'],
        operationId: 'getDelivery',
        summary: 'One delivery with every attempt.',
        params: idParams,
        response: { 200: deliveryDetailSchema },
      },
    },
    async (request) => {
      const delivery = await deliveries.get(request.params.id);
      if (!delivery) throw new PatchbayError(ErrorCode.NOT_FOUND, `no delivery ${request.params.id}`);
      return {
        ...deliveryView(delivery),
        attemptLog: (await deliveries.attempts(delivery.id)).map(attemptView),
      };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/deliveries/:id/replay',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Send a delivery again now (restarts its retry schedule).',
        operationId: 'replayDelivery',
        params: idParams,
        response: { 202: deliverySchema },
      },
    },
    async (request, reply) =>
      reply.status(202).send(deliveryView(await deliveries.replay(request.params.id))),
  );
}
