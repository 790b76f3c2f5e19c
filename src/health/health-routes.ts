import type { FastifyInstance } from 'fastify';
import { anyJson, integer, object, oneOfValues, string, time } from '../core/api/schemas.js';
import type { HealthService } from './health-service.js';

const state = oneOfValues(['healthy', 'degraded', 'failing']);
const objectHealth = object({
  kind: oneOfValues(['source', 'destination', 'connection', 'sync']),
  id: string,
  score: { type: 'integer', minimum: 0, maximum: 100 },
  status: state,
  reasons: { type: 'array', items: string, description: 'Why points were taken, one line each.' },
  inputs: { ...anyJson, type: 'object', description: 'The inputs the score was computed from, by name.' },
});

/** `GET /status`: every source's, destination's, connection's and sync's health, and the worst of them. */
export async function healthRoutes(app: FastifyInstance, health: HealthService): Promise<void> {
  app.get(
    '/status',
    {
      schema: {
        tags: ['status'],
        operationId: 'getStatus',
        summary:
          'Integration health: a 0–100 score per source, destination, connection and sync, with its reasons.',
        response: {
          200: object({
            status: state,
            score: integer,
            checkedAt: time,
            sources: { type: 'array', items: objectHealth },
            destinations: { type: 'array', items: objectHealth },
            connections: { type: 'array', items: objectHealth },
            syncs: { type: 'array', items: objectHealth },
          }),
        },
      },
    },
    async () => health.status(),
  );
}
