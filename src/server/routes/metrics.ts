import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/index.js';

export async function metricsRoutes(app: FastifyInstance, engine: Engine): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await engine.registry.metrics();
    return reply.header('content-type', engine.registry.contentType).send(text);
  });
}
