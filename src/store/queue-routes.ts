import type { FastifyInstance } from 'fastify';
import type { QueuesService } from './queue-module.js';

const queueParams = {
  type: 'object',
  required: ['queue'],
  properties: { queue: { type: 'string', pattern: '^[a-z0-9._-]{1,64}$' } },
} as const;

/** Admin view of the durable job queue: depth by state, dead letters, and requeueing them. */
export async function queueRoutes(app: FastifyInstance, queues: QueuesService): Promise<void> {
  app.get(
    '/queues',
    { schema: { tags: ['queues'], summary: 'Jobs by queue and state (ready, claimed, dead).' } },
    async () => ({ data: await queues.stats() }),
  );

  app.get<{ Params: { queue: string }; Querystring: { limit: number } }>(
    '/queues/:queue/dead',
    {
      schema: {
        tags: ['queues'],
        summary: 'Dead-lettered jobs of a queue, oldest first.',
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
