import type { FastifyInstance } from 'fastify';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { Engine } from '../../engine/index.js';
import type { DeliveryStatus } from '../../store/schema.js';
import type { Destination } from '../../webhooks/delivery/destinations.js';
import { decodeCursor, pageQuerySchema, parseSince, toPage } from '../pagination.js';
import { attemptView, deliveryView, destinationView } from '../views.js';

function destinationOr404(engine: Engine, id: string): Destination {
  const destination = engine.destinations.get(id);
  if (!destination) throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
  return destination;
}

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export async function deliveryRoutes(app: FastifyInstance, engine: Engine): Promise<void> {
  app.get(
    '/destinations',
    { schema: { tags: ['destinations'], summary: 'Destinations with their state.' } },
    async () => {
      // Destinations made through the API by another process since the last periodic refresh.
      await engine.destinationAdmin.refresh();
      return { data: await Promise.all(engine.destinations.all().map((d) => destinationView(engine, d))) };
    },
  );

  app.post(
    '/destinations',
    {
      schema: {
        tags: ['destinations'],
        summary:
          'Create an HTTP destination (same fields as the configuration file); secrets and headers are encrypted at rest and never returned.',
        body: { type: 'object' },
      },
    },
    async (request, reply) => {
      const destination = await engine.destinationAdmin.create(request.body);
      return reply.code(201).send(await destinationView(engine, destination));
    },
  );

  app.patch<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/destinations/:id',
    {
      schema: {
        tags: ['destinations'],
        summary: 'Change a destination made through the API; given fields replace the stored ones.',
        params: idParams,
        body: { type: 'object' },
      },
    },
    async (request) =>
      destinationView(engine, await engine.destinationAdmin.update(request.params.id, request.body)),
  );

  app.delete<{ Params: { id: string } }>(
    '/destinations/:id',
    {
      schema: {
        tags: ['destinations'],
        summary: 'Delete a destination made through the API; its pending deliveries are dead-lettered.',
        params: idParams,
      },
    },
    async (request, reply) => {
      await engine.destinationAdmin.delete(request.params.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/destinations/:id',
    { schema: { tags: ['destinations'], summary: 'One destination with its state.', params: idParams } },
    async (request) => destinationView(engine, destinationOr404(engine, request.params.id)),
  );

  app.post<{ Params: { id: string } }>(
    '/destinations/:id/enable',
    {
      schema: {
        tags: ['destinations'],
        summary: 'Re-enable a disabled destination (clears its failure clock).',
        params: idParams,
      },
    },
    async (request) => {
      const destination = destinationOr404(engine, request.params.id);
      await engine.destinations.enable(destination.id);
      return destinationView(engine, destination);
    },
  );

  app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
    '/destinations/:id/disable',
    {
      schema: {
        tags: ['destinations'],
        summary: 'Disable a destination: new deliveries are recorded as failed until it is enabled again.',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { reason: { type: 'string', maxLength: 500 } },
        },
      },
    },
    async (request) => {
      const destination = destinationOr404(engine, request.params.id);
      await engine.destinations.disable(destination.id, request.body?.reason ?? 'disabled by an operator');
      return destinationView(engine, destination);
    },
  );

  app.post<{ Params: { id: string }; Body: { since: string; limit?: number } }>(
    '/destinations/:id/recover',
    {
      schema: {
        tags: ['destinations'],
        summary:
          'Replay the failed deliveries of a destination created since a time (at most 14 days, 10,000).',
        params: idParams,
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
    async (request) => {
      const destination = destinationOr404(engine, request.params.id);
      return engine.deliveryService.recover(destination.id, {
        since: parseSince(request.body.since, engine.clock.now())!,
        ...(request.body.limit !== undefined && { limit: request.body.limit }),
      });
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
      const since = parseSince(q.since, engine.clock.now());
      const after = decodeCursor(q.cursor);
      const rows = await engine.deliveries.list({
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
    { schema: { tags: ['deliveries'], summary: 'One delivery with every attempt.', params: idParams } },
    async (request) => {
      const delivery = await engine.deliveries.get(request.params.id);
      if (!delivery) throw new PatchbayError(ErrorCode.NOT_FOUND, `no delivery ${request.params.id}`);
      return {
        ...deliveryView(delivery),
        attemptLog: (await engine.deliveries.attempts(delivery.id)).map(attemptView),
      };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/deliveries/:id/replay',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Send a delivery again now (restarts its retry schedule).',
        params: idParams,
      },
    },
    async (request, reply) =>
      reply.status(202).send(deliveryView(await engine.deliveryService.replay(request.params.id))),
  );
}
