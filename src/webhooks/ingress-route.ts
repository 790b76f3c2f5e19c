import type { FastifyInstance } from 'fastify';
import { errorBody } from '../core/api/error-body.js';
import type { EventsService } from './events-module.js';
import { sendHandshake, useRawBody } from './fastify.js';
import { headersFromRaw } from './verify/index.js';

/**
 * `POST /webhooks/:sourceId`: the ingress. Bodies stay raw bytes (the signature covers the exact bytes), the
 * server reads at most the largest source limit and the ingress applies each source's own. The 2xx goes out
 * only after the events are committed.
 */
export async function ingressRoute(app: FastifyInstance, events: EventsService): Promise<void> {
  await app.register(async (hooks) => {
    useRawBody(hooks);
    hooks.post<{ Params: { sourceId: string } }>(
      '/webhooks/:sourceId',
      {
        bodyLimit: events.ingressBodyLimit,
        schema: {
          hide: true,
          params: {
            type: 'object',
            properties: { sourceId: { type: 'string', maxLength: 64 } },
            required: ['sourceId'],
          },
        },
      },
      async (request, reply) => {
        const outcome = await events.receive(request.params.sourceId, {
          rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          // The raw headers: a repeated signature header must reach the verifier as repeated.
          headers: headersFromRaw(request.raw.rawHeaders),
          url: request.url,
          method: request.method,
          contentType: request.headers['content-type'],
          requestId: request.id,
        });
        switch (outcome.kind) {
          case 'handshake':
            return sendHandshake(reply, outcome.response);
          case 'rejected':
            if (outcome.status === 401) {
              request.log.warn({ source: request.params.sourceId, code: outcome.code }, outcome.reason);
            }
            return reply.code(outcome.status).send(errorBody(request, outcome.code, outcome.reason));
          case 'accepted':
            return reply
              .code(outcome.status)
              .send({ received: outcome.stored + outcome.duplicates, duplicates: outcome.duplicates });
        }
      },
    );
  });
}
