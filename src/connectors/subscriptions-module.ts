import type { FastifyInstance } from 'fastify';
import { listOf, nullable, object } from '../core/api/schemas.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { PatchbayModule } from '../core/module.js';
import type { ConnectionReader } from './connector-clients.js';
import type { ConnectorModuleService } from './connector-module.js';
import type { SubscriptionView } from './subscription-view.js';

export interface SubscriptionsService {
  /** The subscriptions every contributed module keeps, or those of one connection. */
  list(connectionId?: string): SubscriptionView[];
}

/**
 * `GET /connections/:id/subscriptions`: the change-notification subscriptions the contributed modules
 * keep (Graph's, for the folders whose syncs say `notify`). Built for every config, so the route answers
 * an empty list when no such module runs.
 */
export function createSubscriptionsModule(ports: {
  connections: ConnectionReader;
  contributed: readonly ConnectorModuleService[];
}): PatchbayModule<SubscriptionsService> {
  const service: SubscriptionsService = {
    list: (connectionId) => ports.contributed.flatMap((module) => module.subscriptions?.(connectionId) ?? []),
  };
  return {
    name: 'subscriptions',
    service,
    adminRoutes: (app) => subscriptionRoutes(app, service, ports.connections),
  };
}

const nullableString = nullable({ type: 'string' });
const nullableTime = nullable({ type: 'string', format: 'date-time' });
const subscriptionSchema = object({
  connection: { type: 'string' },
  source: { type: 'string', description: 'The source the provider notifies (an msgraph source).' },
  syncId: { type: 'string', description: 'The sync of the folder (msgraph.messages).' },
  resource: { type: 'string', description: "Graph: users/{mailbox}/mailFolders('{folder}')/messages" },
  subscriptionId: nullableString,
  expiresAt: nullableTime,
  renewedAt: { ...nullableTime, description: 'When this process last created or renewed it.' },
  problem: { ...nullableString, description: 'Why the folder has no live subscription, when it has none.' },
});

async function subscriptionRoutes(
  app: FastifyInstance,
  service: SubscriptionsService,
  connections: ConnectionReader,
): Promise<void> {
  app.get<{ Params: { id: string } }>(
    '/connections/:id/subscriptions',
    {
      schema: {
        tags: ['connections'],
        summary: "The Graph change-notification subscriptions a connection keeps for its syncs' folders.",
        operationId: 'listConnectionSubscriptions',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: { 200: listOf(subscriptionSchema) },
      },
    },
    async (request) => {
      if (!(await connections.get(request.params.id))) {
        throw new PatchbayError(ErrorCode.NOT_FOUND, `no connection "${request.params.id}"`);
      }
      return { data: service.list(request.params.id) };
    },
  );
}
