import type { FastifyInstance } from 'fastify';
import { anyJson, integer, listOf, nullable, object, string } from '../core/api/schemas.js';
import type { QueuesService } from './queue-module.js';

const statsSchema = object({ queue: string, ready: integer, claimed: integer, dead: integer });
const deadJobSchema = object({
  id: string,
  queue: string,
  payload: anyJson,
  attempts: integer,
  lastError: nullable(string),
  createdAt: { type: 'integer', description: 'Epoch ms.' },
  updatedAt: { type: 'integer', description: 'Epoch ms.' },
});

const queueParams = {
  type: 'object',
  required: ['queue'],
  properties: { queue: { type: 'string', pattern: '^[a-z0-9._-]{1,64}$' } },
} as const;

/** Admin view of the durable job queue: depth by state, dead letters, and requeueing them. */
export async function queueRoutes(app: FastifyInstance, queues: QueuesService): Promise<void> {
  app.get(
    '/queues',
    {
      schema: {
        tags: ['queues'],
        operationId: 'listQueues',
        summary: 'Jobs by queue and state (ready, claimed, dead).',
        response: { 200: listOf(statsSchema) },
      },
    },
    async () => ({ data: await queues.stats() }),
  );

  app.get<{ Params: { queue: string }; Querystring: { limit: number } }>(
    '/queues/:queue/dead',
    {
      schema: {
        tags: ['queues'],
        summary: 'Dead-lettered jobs of a queue, oldest first.',
        operationId: 'listDeadJobs',
        response: { 200: listOf(deadJobSchema) },
        params: queueParams,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
        },
      },
    },
    async (request) => ({ data: await queues.listDead(request.params.queue, request.query.limit) }),
  );

  app.post<{ Params: { queue: string }; Body: { ids?: string[] } | undefined }>(
    '/queues/:queue/dead/requeue',
    {
      schema: {
        tags: ['queues'],
        summary: 'Puts dead jobs (all, or the ids given) back in line with fresh attempts.',
        operationId: 'requeueDeadJobs',
        response: { 200: object({ requeued: integer }) },
        params: queueParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { ids: { type: 'array', maxItems: 10000, items: { type: 'string', maxLength: 100 } } },
        },
      },
    },
    async (request) => ({
      requeued: await queues.requeueDead(request.params.queue, request.body?.ids),
    }),
  );
}
