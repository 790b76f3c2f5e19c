import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FakeContext } from './fake-context.js';
import { jsonBody, route } from './fake-context.js';
import { HubSpotFailure, sendError, validation } from './fake-errors.js';
import type { WebhookSender } from './webhook-sender.js';

const OBJECTS = ['contact', 'company', 'deal', 'ticket'];
const KINDS = [
  'creation',
  'deletion',
  'propertyChange',
  'associationChange',
  'merge',
  'restore',
  'privacyDeletion',
];
export const EVENT_TYPES = OBJECTS.flatMap((o) => KINDS.map((k) => `${o}.${k}`)).filter(
  (t) => t !== 'company.privacyDeletion',
);
/** At most 1,000 subscriptions per app. */
export const SUBSCRIPTION_LIMIT = 1000;

/**
 * The developer API for an app's webhooks (`/webhooks/v3/{appId}/settings` and `…/subscriptions`),
 * authenticated by the developer API key in `hapikey` (any key is accepted).
 */
export function webhookRoutes(
  app: FastifyInstance,
  ctx: FakeContext,
  sender: WebhookSender,
  appId: number,
): void {
  const at = () => new Date(ctx.kit.clock.now()).toISOString();
  const guard = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const key = (request.query as Record<string, unknown>).hapikey;
    if (typeof key !== 'string' || key === '') {
      sendError(reply, 401, 'The developer API key (hapikey) is missing', 'INVALID_AUTHENTICATION');
      return false;
    }
    if ((request.params as { appId: string }).appId !== String(appId)) {
      sendError(
        reply,
        404,
        `App ${(request.params as { appId: string }).appId} not found`,
        'OBJECT_NOT_FOUND',
      );
      return false;
    }
    return true;
  };
  const settings = () => ({
    targetUrl: sender.targetUrl,
    throttling: { maxConcurrentRequests: sender.maxConcurrentRequests, period: 'SECONDLY' },
    createdAt: at(),
    updatedAt: at(),
  });

  app.get(
    '/webhooks/v3/:appId/settings',
    route(async (request, reply) => (guard(request, reply) ? settings() : reply)),
  );
  app.put(
    '/webhooks/v3/:appId/settings',
    route(async (request, reply) => {
      if (!guard(request, reply)) return reply;
      const body = jsonBody(request);
      const target = body.targetUrl;
      if (typeof target !== 'string' || !/^https?:\/\//.test(target))
        throw validation('targetUrl must be an http(s) URL');
      const max =
        (body.throttling as { maxConcurrentRequests?: unknown } | undefined)?.maxConcurrentRequests ?? 10;
      if (typeof max !== 'number' || !Number.isInteger(max) || max <= 5) {
        throw validation('throttling.maxConcurrentRequests must be an integer greater than 5');
      }
      sender.targetUrl = target;
      sender.maxConcurrentRequests = max;
      return settings();
    }),
  );
  app.delete(
    '/webhooks/v3/:appId/settings',
    route(async (request, reply) => {
      if (!guard(request, reply)) return reply;
      sender.targetUrl = undefined;
      return reply.status(204).send();
    }),
  );

  app.get(
    '/webhooks/v3/:appId/subscriptions',
    route(async (request, reply) =>
      guard(request, reply) ? { results: [...sender.subscriptions.values()] } : reply,
    ),
  );
  app.post(
    '/webhooks/v3/:appId/subscriptions',
    route(async (request, reply) => {
      if (!guard(request, reply)) return reply;
      const body = jsonBody(request);
      const eventType = body.eventType;
      if (typeof eventType !== 'string' || !EVENT_TYPES.includes(eventType)) {
        throw validation(`eventType must be one of ${EVENT_TYPES.join(', ')}`);
      }
      const propertyName = typeof body.propertyName === 'string' ? body.propertyName : undefined;
      if (eventType.endsWith('.propertyChange') && !propertyName)
        throw validation('A propertyChange subscription needs propertyName');
      if (sender.subscriptions.size >= SUBSCRIPTION_LIMIT) {
        throw validation(
          `Couldn't create another subscription: an app may have at most ${SUBSCRIPTION_LIMIT} subscriptions`,
        );
      }
      return reply.status(201).send(sender.subscribe(eventType, propertyName, body.active !== false));
    }),
  );
  app.patch(
    '/webhooks/v3/:appId/subscriptions/:id',
    route(async (request, reply) => {
      if (!guard(request, reply)) return reply;
      const subscription = sender.subscriptions.get(Number((request.params as { id: string }).id));
      if (!subscription) throw new HubSpotFailure(404, 'Subscription not found', 'OBJECT_NOT_FOUND');
      const body = jsonBody(request);
      if (typeof body.active === 'boolean') subscription.active = body.active;
      subscription.updatedAt = at();
      return subscription;
    }),
  );
  app.delete(
    '/webhooks/v3/:appId/subscriptions/:id',
    route(async (request, reply) => {
      if (!guard(request, reply)) return reply;
      sender.subscriptions.delete(Number((request.params as { id: string }).id));
      return reply.status(204).send();
    }),
  );
}
