import type { FastifyInstance } from 'fastify';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { Engine } from '../../engine/index.js';
import type { StoredEvent } from '../../store/event-store.js';
import { decodeCursor, pageQuerySchema, toPage } from '../pagination.js';

/** The list view of an event: metadata only. */
export function eventSummary(e: StoredEvent) {
  return {
    id: e.id,
    source: e.source,
    externalId: e.externalId,
    type: e.type,
    receivedAt: new Date(e.receivedAt).toISOString(),
    occurredAt: e.occurredAt === null ? null : new Date(e.occurredAt).toISOString(),
    duplicates: e.duplicates,
    verification: e.verification,
    size: e.body.length,
  };
}

/** The full view: headers (secrets were stripped at ingest) and the payload, parsed when it is JSON. */
export function eventDetail(e: StoredEvent) {
  let payload: unknown;
  let bodyBase64: string | undefined;
  const text = e.body.toString('utf8');
  const isUtf8 = Buffer.from(text, 'utf8').equals(e.body);
  if (isUtf8 && /json/i.test(e.contentType ?? 'json')) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
  } else if (isUtf8) payload = text;
  else bodyBase64 = e.body.toString('base64');
  return {
    ...eventSummary(e),
    requestId: e.requestId,
    contentType: e.contentType,
    headers: e.headers,
    lastDuplicateAt: e.lastDuplicateAt === null ? null : new Date(e.lastDuplicateAt).toISOString(),
    ...(bodyBase64 === undefined ? { payload } : { bodyBase64 }),
  };
}

/** `since` as an ISO date/time or epoch milliseconds. */
export function parseSince(since: string | undefined): number | undefined {
  if (since === undefined || since === '') return undefined;
  const ms = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
  if (!Number.isFinite(ms)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `since must be an ISO date-time or epoch milliseconds, got ${JSON.stringify(since)}`,
    );
  }
  return ms;
}

interface ListQuery {
  source?: string;
  type?: string;
  since?: string;
  cursor?: string;
  limit: number;
}

export async function eventRoutes(app: FastifyInstance, engine: Engine): Promise<void> {
  app.get<{ Querystring: ListQuery }>(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary:
          'The event log, oldest first; filter by source, type (a trailing * matches a prefix) and time.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            source: { type: 'string', maxLength: 64 },
            type: { type: 'string', maxLength: 200 },
            since: { type: 'string', maxLength: 40, description: 'ISO date-time or epoch ms' },
            ...pageQuerySchema,
          },
        },
      },
    },
    async (request) => {
      const { source, type, since, cursor, limit } = request.query;
      const rows = await engine.pipeline.store.list({
        ...(source !== undefined && { source }),
        ...(type !== undefined && { type }),
        ...(since !== undefined && { since: parseSince(since)! }),
        ...(cursor !== undefined && { after: decodeCursor(cursor)! }),
        limit,
      });
      const page = toPage(rows, limit);
      return { data: page.data.map(eventSummary), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: 'One event with its headers and payload.',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 100 } }, required: ['id'] },
      },
    },
    async (request) => {
      const event = await engine.pipeline.store.get(request.params.id);
      if (!event) throw new PatchbayError(ErrorCode.NOT_FOUND, `no event ${request.params.id}`);
      return eventDetail(event);
    },
  );

  app.post<{ Body: { type: string; payload?: unknown; idempotencyKey?: string; source?: string } }>(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Publish an event; repeating an idempotencyKey returns the original event.',
        body: {
          type: 'object',
          required: ['type'],
          additionalProperties: false,
          properties: {
            type: { type: 'string', minLength: 1, maxLength: 200 },
            payload: {},
            idempotencyKey: { type: 'string', minLength: 1, maxLength: 200 },
            source: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
      },
    },
    async (request, reply) => {
      const result = await engine.publish({ ...request.body, payload: request.body.payload ?? null });
      return reply.status(result.duplicate ? 200 : 201).send(result);
    },
  );
}
