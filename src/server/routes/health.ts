import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/index.js';

export async function healthRoutes(app: FastifyInstance, engine: Engine): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const { ok, checks } = await engine.readiness();
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
}
