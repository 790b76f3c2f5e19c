import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FakeKit } from '../../fake-kit/index.js';
import type { Guard } from './api-guard.js';
import { EVENT_TYPES, type EventWebhook } from './event-webhook.js';
import { sendgridId } from './mail-log.js';
import { MESSAGES, sendError } from './sendgrid-errors.js';

/** `/v3/user/webhooks/event/settings` (and `/signed`, `/test`): where events go, which ones, and the signing key. */
export function webhookRoutes(
  app: FastifyInstance,
  webhook: EventWebhook,
  guard: (scope: string) => Guard,
  k: FakeKit,
) {
  const object = (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
      sendError(reply, 400, MESSAGES.badRequest);
      return undefined;
    }
    return body as Record<string, unknown>;
  };
  app.get('/v3/user/webhooks/event/settings', async (request, reply) => {
    if (!guard('user.webhooks.event.settings.read')(request, reply)) return reply;
    return webhook.settings;
  });
  app.patch('/v3/user/webhooks/event/settings', async (request, reply) => {
    if (!guard('user.webhooks.event.settings.update')(request, reply)) return reply;
    const body = object(request, reply);
    if (!body) return reply;
    if (body.url !== undefined) {
      if (typeof body.url !== 'string' || !/^https?:\/\//.test(body.url)) {
        return sendError(reply, 400, 'url must be an http(s) URL', 'url');
      }
      webhook.settings.url = body.url;
    }
    if (body.enabled !== undefined) webhook.settings.enabled = body.enabled === true;
    for (const type of EVENT_TYPES) if (typeof body[type] === 'boolean') webhook.settings[type] = body[type];
    return webhook.settings;
  });
  app.get('/v3/user/webhooks/event/settings/signed', async (request, reply) => {
    if (!guard('user.webhooks.event.settings.read')(request, reply)) return reply;
    return { public_key: webhook.signed ? webhook.publicKey : '' };
  });
  app.patch('/v3/user/webhooks/event/settings/signed', async (request, reply) => {
    if (!guard('user.webhooks.event.settings.update')(request, reply)) return reply;
    const body = object(request, reply);
    if (!body) return reply;
    if (typeof body.enabled !== 'boolean')
      return sendError(reply, 400, 'enabled must be a boolean', 'enabled');
    webhook.signed = body.enabled;
    return { public_key: webhook.signed ? webhook.publicKey : '' };
  });
  app.post('/v3/user/webhooks/event/test', async (request, reply) => {
    if (!guard('user.webhooks.event.settings.update')(request, reply)) return reply;
    const body = object(request, reply);
    if (!body) return reply;
    const url = typeof body.url === 'string' ? body.url : webhook.settings.url;
    if (!/^https?:\/\//.test(url)) return sendError(reply, 400, 'url must be an http(s) URL', 'url');
    const now = k.clock.now();
    await webhook.postNow(url, [
      {
        email: 'example@test.com',
        event: 'processed',
        sg_event_id: sendgridId(),
        sg_message_id: `${sendgridId()}.filterdrecv-fake-test.0`,
        timestamp: Math.floor(now / 1000),
      },
    ]);
    return reply.status(204).send();
  });
}
