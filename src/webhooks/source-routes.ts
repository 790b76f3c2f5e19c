import type { FastifyInstance } from 'fastify';
import { bodyFromZod, listOf, noContent } from '../core/api/schemas.js';
import { sourceSchema as configSource } from '../core/config/schema.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { SourcesService } from './events-module.js';
import type { SourceView } from './ingress.js';

const sourceSchema = {
  type: 'object',
  required: ['id', 'origin', 'scheme', 'secrets', 'bodyLimit', 'retentionMs', 'insecure', 'url'],
  properties: {
    id: { type: 'string' },
    origin: { type: 'string', enum: ['config', 'api'] },
    scheme: { type: 'string' },
    secrets: { type: 'integer', description: 'How many secrets are accepted (never the secrets).' },
    bodyLimit: { type: 'integer' },
    retentionMs: { type: 'integer' },
    insecure: { type: 'boolean' },
    url: { type: 'string', description: 'Path the provider posts to.' },
  },
} as const;

const sourceInput = {
  type: 'object',
  description:
    'A source as in the configuration file: { id, verify: { scheme, secrets, … }, bodyLimit?, retention? }. ' +
    'Secrets are encrypted at rest and never returned.',
} as const;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const;

function view(source: SourceView) {
  return { ...source, url: `/webhooks/${encodeURIComponent(source.id)}` };
}

/** Webhook sources: those of the configuration file (read-only) and those made here. */
export async function sourceRoutes(app: FastifyInstance, sources: SourcesService): Promise<void> {
  app.get(
    '/sources',
    {
      schema: {
        tags: ['sources'],
        summary: 'Webhook sources and their verification scheme.',
        operationId: 'listSources',
        response: { 200: listOf(sourceSchema) },
      },
    },
    async () => ({ data: (await sources.list()).map(view) }),
  );

  app.get<{ Params: { id: string } }>(
    '/sources/:id',
    {
      schema: {
        tags: ['sources'],
        summary: 'One webhook source.',
        operationId: 'getSource',
        params: idParams,
        response: { 200: sourceSchema },
      },
    },
    async (request) => {
      const source = await sources.get(request.params.id);
      if (!source)
        throw new PatchbayError(ErrorCode.NOT_FOUND, `no source ${JSON.stringify(request.params.id)}`);
      return view(source);
    },
  );

  app.post(
    '/sources',
    {
      schema: {
        tags: ['sources'],
        summary: 'Create a webhook source; it receives at /webhooks/:id at once, in every process.',
        body: sourceInput,
        documentedBody: bodyFromZod(configSource, sourceInput.description),
        operationId: 'createSource',
        response: { 201: sourceSchema },
      },
    },
    async (request, reply) => reply.code(201).send(view(await sources.create(request.body))),
  );

  app.patch<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/sources/:id',
    {
      schema: {
        tags: ['sources'],
        summary: 'Change a source made through the API: verify (replaced whole), bodyLimit, retention.',
        operationId: 'updateSource',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { verify: { type: 'object' }, bodyLimit: {}, retention: {} },
        },
        response: { 200: sourceSchema },
      },
    },
    async (request) => view(await sources.update(request.params.id, request.body)),
  );

  app.delete<{ Params: { id: string } }>(
    '/sources/:id',
    {
      schema: {
        tags: ['sources'],
        operationId: 'deleteSource',
        summary: 'Delete a source made through the API.',
        params: idParams,
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      await sources.delete(request.params.id);
      return reply.code(204).send();
    },
  );
}
