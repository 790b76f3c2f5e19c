import { readFileSync } from 'node:fs';
import type { SwaggerOptions } from '@fastify/swagger';
import { errorSchema, type JsonSchema } from '../core/api/schemas.js';

/**
 * The admin API's OpenAPI document: @fastify/swagger reads the routes' own schemas (parameters, bodies,
 * responses, operationIds); this file adds what every route shares — the error answers the guard, the
 * admin token and the validator give, the security scheme, the servers, the licence — so no route
 * repeats them. Only `/api/v1` is in it: the dashboard, the webhook ingress, health and metrics are not
 * part of the admin API.
 */

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const TAGS = [
  { name: 'connections', description: 'Credentials for the APIs Patchbay calls (secrets in, masks out).' },
  { name: 'deliveries', description: 'Each event sent to each destination, with its attempts.' },
  { name: 'destinations', description: 'Where events are delivered, with their breaker and limits.' },
  { name: 'events', description: 'The event log: received webhooks, published and operational events.' },
  { name: 'queues', description: 'The durable job queue: depth by state and dead letters.' },
  { name: 'sources', description: 'Webhook sources and how their requests are verified.' },
  { name: 'status', description: 'Integration health: a score per connection, source, destination, sync.' },
  { name: 'syncs', description: 'Record syncs: runs, records, local writes, quarantine, conflicts.' },
];

/** The error answers every admin route can give, by status; each is one shared response object. */
const ERRORS: Record<string, { name: string; description: string; when: (op: Operation) => boolean }> = {
  400: {
    name: 'BadRequest',
    description: 'A parameter, the query or the body is invalid; the message names it.',
    when: () => true,
  },
  401: {
    name: 'Unauthorized',
    description: 'The admin token is missing or wrong.',
    when: () => true,
  },
  403: {
    name: 'Forbidden',
    description: 'A cross-site request (Origin, Sec-Fetch-Site) or a CORS preflight.',
    when: () => true,
  },
  404: {
    name: 'NotFound',
    description: 'No object with that id.',
    when: (op) => op.pathParameters,
  },
  409: {
    name: 'Conflict',
    description: 'The object is in a state that refuses this (the message says which).',
    when: (op) => op.declared.has('409'),
  },
  415: {
    name: 'UnsupportedMediaType',
    description: 'A body that is not application/json.',
    when: (op) => op.method === 'post' || op.method === 'put' || op.method === 'patch',
  },
  421: {
    name: 'MisdirectedRequest',
    description: 'A Host header that is not loopback, server.allowedHosts or the bound address.',
    when: () => true,
  },
  503: {
    name: 'Unavailable',
    description: 'The store is unavailable or the server overloaded; retry after Retry-After seconds.',
    when: () => true,
  },
};

interface Operation {
  method: string;
  pathParameters: boolean;
  declared: Set<string>;
}

type Document = Record<string, unknown> & {
  paths?: Record<string, Record<string, Record<string, unknown>>>;
  components?: Record<string, Record<string, unknown>>;
};

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** The options @fastify/swagger is registered with. */
export function openapiOptions(): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Patchbay admin API',
        version: PACKAGE.version,
        description:
          'Manage a Patchbay instance: sources, destinations, deliveries, events, connections, syncs, queues and health. Every answer that is not a 2xx has the body `{ "error": { "code", "message", "requestId" } }`.',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      tags: TAGS,
      components: {
        securitySchemes: {
          adminToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'The admin token (PATCHBAY_ADMIN_TOKEN or server.adminToken). Without one set, the API answers loopback callers only.',
          },
        },
      },
      security: [{ adminToken: [] }],
    },
    transform: ({ schema, url }) => {
      if (!url.startsWith('/api/v1/')) return { schema: { ...schema, hide: true }, url };
      const documented = (schema as { documentedBody?: JsonSchema } | undefined)?.documentedBody;
      if (documented === undefined) return { schema, url };
      const { documentedBody: _shown, ...rest } = schema as Record<string, unknown>;
      return { schema: { ...rest, body: documented } as typeof schema, url };
    },
  };
}

/**
 * The document as served: the generated one with the shared error answers on every operation, the
 * error schema as a component. The server is `/`: the origin the document was fetched from, which is
 * right behind a proxy too (a configured address would not be).
 */
export function completeDocument(generated: Document): Document {
  const document = structuredClone(generated);
  const used = new Set<string>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const responses = (operation.responses ?? {}) as Record<string, unknown>;
      const op: Operation = {
        method,
        pathParameters: path.includes('{'),
        declared: new Set(Object.keys(responses)),
      };
      for (const [status, error] of Object.entries(ERRORS)) {
        if (!error.when(op)) continue;
        responses[status] = { $ref: `#/components/responses/${error.name}` };
        used.add(status);
      }
      operation.responses = responses;
    }
  }
  const responses: Record<string, unknown> = {};
  for (const status of [...used].sort()) {
    const error = ERRORS[status]!;
    responses[error.name] = {
      description: error.description,
      ...(status === '503' && {
        headers: {
          'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
        },
      }),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, Error: errorSchema },
    responses,
  };
  document.servers = [{ url: '/', description: 'The instance this document was fetched from.' }];
  return document;
}
