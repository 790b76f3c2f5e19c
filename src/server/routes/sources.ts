import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/index.js';
import { errorBody } from '../errors.js';

const sourceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    scheme: { type: 'string' },
    secrets: { type: 'integer', description: 'How many secrets are accepted (never the secrets).' },
    bodyLimit: { type: 'integer' },
    retentionMs: { type: 'integer' },
    insecure: { type: 'boolean' },
    url: { type: 'string', description: 'Path the provider posts to.' },
  },
} as const;

/** Webhook sources (from the configuration): what each verifies and where it listens. */
export async function sourceRoutes(app: FastifyInstance, engine: Engine): Promise<void> {
  const view = (id: string) => {
    const source = engine.ingress.get(id)!;
    return { ...source, url: `/webhooks/${encodeURIComponent(source.id)}` };
  };
  app.get(
    '/sources',
    {
      schema: {
        tags: ['sources'],
        summary: 'Webhook sources and their verification scheme.',
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: sourceSchema } } } },
      },
    },
    async () => ({ data: engine.ingress.list().map((s) => view(s.id)) }),
  );
  app.get<{ Params: { id: string } }>(
    '/sources/:id',
    {
      schema: {
        tags: ['sources'],
        summary: 'One webhook source.',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 200: sourceSchema },
      },
    },
    async (request, reply) => {
      if (!engine.ingress.get(request.params.id)) {
        return reply
          .code(404)
          .send(errorBody(request, 'NOT_FOUND', `no source ${JSON.stringify(request.params.id)}`));
      }
      return view(request.params.id);
    },
  );
}
