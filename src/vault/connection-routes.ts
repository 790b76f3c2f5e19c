import type { FastifyInstance } from 'fastify';
import { decodeCursor, pageQuerySchema, toPage } from '../core/api/pagination.js';
import {
  bodyFromZod,
  integer,
  noContent,
  nullable,
  object,
  oneOfValues,
  pageOf,
  string,
  time,
} from '../core/api/schemas.js';
import { connectionSchema as configConnection } from '../core/config/connections.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { ConnectionStatus } from '../store/schema.js';
import { connectionView } from './connection-model.js';
import type { ConnectionPatch } from './connection-service.js';
import type { VaultServices } from './open-vault.js';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** Bodies are validated by the vault's own schema (messages name the field and never echo a secret). */
const anyObject = { type: 'object' } as const;

const STATUSES: ConnectionStatus[] = ['active', 'needs_reauth', 'error'];

/** connection-model.ts's connectionView. */
const connectionSchema = object(
  {
    id: string,
    provider: string,
    baseUrl: nullable(string),
    auth: { type: 'object', description: 'The auth settings, every secret as a fixed mask.' },
    status: oneOfValues(STATUSES),
    statusReason: nullable(string),
    metadata: { type: 'object' },
    origin: oneOfValues(['config', 'api']),
    credentials: object({
      accessToken: nullable({ type: 'string', description: 'A mask when there is a token.' }),
      expiresAt: nullable(time),
      refreshedAt: nullable(time),
      version: integer,
    }),
    createdAt: time,
    updatedAt: time,
  },
  ['credentials'],
);

const authorizationSchema = object({
  connectionId: string,
  url: { type: 'string', description: "The provider's authorization URL to open." },
  redirectUri: string,
  expiresAt: time,
});

/** Where the provider sends the browser back: the configured URL, else this server's own `/oauth/callback`. */
export function defaultRedirectUri(request: { protocol: string; host: string }): string {
  return `${request.protocol}://${request.host}/oauth/callback`;
}

/**
 * `/api/v1/connections`: create, list, show, change and delete connections, and start an OAuth
 * authorization. Secrets go in; only masks come out.
 */
export async function connectionRoutes(app: FastifyInstance, vault: VaultServices): Promise<void> {
  app.post<{ Body: unknown }>(
    '/connections',
    {
      schema: {
        tags: ['connections'],
        summary: 'Create a connection; its secrets are encrypted and never returned.',
        operationId: 'createConnection',
        body: anyObject,
        documentedBody: bodyFromZod(configConnection, 'A connection as in the configuration file.'),
        response: { 201: connectionSchema },
      },
    },
    async (request, reply) => {
      const connection = await vault.connections.create(request.body as never, 'api');
      return reply.status(201).send(connectionView(connection));
    },
  );

  app.get<{ Querystring: { status?: ConnectionStatus; cursor?: string; limit: number } }>(
    '/connections',
    {
      schema: {
        tags: ['connections'],
        summary: 'Connections in id order, with their status (secrets masked).',
        operationId: 'listConnections',
        response: { 200: pageOf(connectionSchema) },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { status: { type: 'string', enum: STATUSES }, ...pageQuerySchema },
        },
      },
    },
    async (request) => {
      const after = decodeCursor(request.query.cursor);
      const rows = await vault.connections.list({
        limit: request.query.limit + 1,
        ...(after !== undefined && { after }),
        ...(request.query.status !== undefined && { status: request.query.status }),
      });
      const page = toPage(rows, request.query.limit);
      return { data: page.data.map(connectionView), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/connections/:id',
    {
      schema: {
        tags: ['connections'],
        operationId: 'getConnection',
        summary: 'One connection (secrets masked).',
        params: idParams,
        response: { 200: connectionSchema },
      },
    },
    async (request) => connectionView(await vault.connections.require(request.params.id)),
  );

  app.patch<{ Params: { id: string }; Body: ConnectionPatch }>(
    '/connections/:id',
    {
      schema: {
        tags: ['connections'],
        summary:
          'Change a connection: provider, baseUrl, metadata, or auth (merged into the current auth; a masked value keeps the secret).',
        operationId: 'updateConnection',
        params: idParams,
        response: { 200: connectionSchema },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            provider: { type: 'string' },
            baseUrl: { type: ['string', 'null'] },
            metadata: { type: 'object' },
            auth: { type: 'object' },
          },
        },
      },
    },
    async (request) => connectionView(await vault.connections.update(request.params.id, request.body)),
  );

  app.delete<{ Params: { id: string } }>(
    '/connections/:id',
    {
      schema: {
        tags: ['connections'],
        summary: 'Delete a connection and its credentials.',
        operationId: 'deleteConnection',
        params: idParams,
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      await vault.connections.delete(request.params.id);
      return reply.status(204).send();
    },
  );

  app.get<{
    Params: { id: string };
    Querystring: { returnTo?: string; redirectUri?: string; redirect?: boolean };
  }>(
    '/connections/:id/authorize',
    {
      schema: {
        tags: ['connections'],
        summary:
          'Start an OAuth authorization (code + PKCE + state): returns the provider URL to open, valid for vault.stateTtl; redirect=true answers 302.',
        operationId: 'authorizeConnection',
        params: idParams,
        response: {
          200: authorizationSchema,
          302: {
            description: 'With redirect=true: to the authorization URL.',
            type: 'null',
            headers: { location: { type: 'string' } },
          },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            returnTo: {
              type: 'string',
              maxLength: 2000,
              description: 'Where the callback sends the browser.',
            },
            redirectUri: {
              type: 'string',
              maxLength: 2000,
              description:
                "The /oauth/callback URL registered with the provider, when neither the connection nor vault.oauthRedirectUrl sets one (default: this server's own).",
            },
            redirect: { type: 'boolean', default: false },
          },
        },
      },
    },
    async (request, reply) => {
      const { returnTo, redirectUri, redirect } = request.query;
      const started = await vault.authorization.start(
        request.params.id,
        {
          redirectUri: redirectUri ?? defaultRedirectUri(request),
          ...(returnTo !== undefined && { returnTo }),
        },
        AbortSignal.timeout(15_000),
      );
      if (redirect) return reply.redirect(started.url, 302);
      return {
        connectionId: request.params.id,
        url: started.url,
        redirectUri: started.redirectUri,
        expiresAt: new Date(started.expiresAt).toISOString(),
      };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/connections/:id/refresh',
    {
      schema: {
        tags: ['connections'],
        summary: 'Obtain fresh credentials now (OAuth connections), e.g. to test them.',
        operationId: 'refreshConnection',
        params: idParams,
        response: { 200: connectionSchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const connection = await vault.connections.require(id);
      if (
        connection.scheme !== 'oauth2-client-credentials' &&
        connection.scheme !== 'oauth2-authorization-code'
      ) {
        throw new PatchbayError(
          ErrorCode.INVALID_ARGUMENT,
          `connection ${id} uses ${connection.scheme}: nothing to refresh`,
        );
      }
      await vault.refresh.forceRefresh(id, connection.version, AbortSignal.timeout(30_000));
      return connectionView(await vault.connections.require(id));
    },
  );
}
