import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type FakeKit, INVALID_JSON } from '../../fake-kit/index.js';
import { type AppRegistration, type AppRegistry, DEFAULT_PERMISSIONS } from './apps.js';
import { DEFAULT_TENANT_ID } from './directory.js';
import { renderFolder } from './folder-routes.js';
import { ControlError, type MailControl } from './mail-control.js';
import { iso } from './message-view.js';
import type { NotificationSender } from './notification-sender.js';
import type { SubscriptionRegistry } from './subscriptions.js';

export interface ControlDeps {
  kit: FakeKit;
  control: MailControl;
  apps: AppRegistry;
  subscriptions: SubscriptionRegistry;
  sender: NotificationSender;
  settings: { get(): Record<string, unknown>; set(input: unknown): Record<string, unknown> };
}

/** The Graph fake's own part of the control plane, under `/_fake/` (listed at `GET /_fake`). */
export const CONTROL_ROUTES = [
  'GET /_fake/apps',
  'POST /_fake/apps',
  'GET /_fake/users',
  'POST /_fake/users',
  'GET /_fake/mailboxes/:user/folders',
  'GET /_fake/mailboxes/:user/messages?folder=inbox',
  'POST /_fake/mailboxes/:user/messages',
  'PATCH /_fake/messages/:id',
  'POST /_fake/messages/:id/move',
  'DELETE /_fake/messages/:id',
  'POST /_fake/delta/expire',
  'POST /_fake/throttle',
  'GET /_fake/subscriptions',
  'POST /_fake/subscriptions/:id/lifecycle',
  'GET /_fake/notifications',
  'GET /_fake/settings',
  'POST /_fake/settings',
];

export function controlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const { control } = deps;
  const handle =
    (
      fn: (
        params: Record<string, string>,
        body: Record<string, unknown>,
        query: Record<string, string>,
      ) => unknown,
    ) =>
    async (request: { params: unknown; body: unknown; query: unknown }, reply: FastifyReply) => {
      const body = request.body;
      if (body === INVALID_JSON) return reply.status(400).send({ error: 'the body must be JSON' });
      try {
        return await fn(
          request.params as Record<string, string>,
          (body && typeof body === 'object' && !Buffer.isBuffer(body) ? body : {}) as Record<string, unknown>,
          request.query as Record<string, string>,
        );
      } catch (err) {
        if (err instanceof ControlError) return reply.status(err.status).send({ error: err.message });
        if (err instanceof RangeError) return reply.status(400).send({ error: err.message });
        throw err;
      }
    };

  app.get('/_fake/apps', async () => ({ apps: deps.apps.list() }));
  app.post(
    '/_fake/apps',
    handle((_p, body) => {
      const permissions = body.permissions ?? DEFAULT_PERMISSIONS;
      if (!Array.isArray(permissions) || permissions.some((p) => typeof p !== 'string')) {
        throw new ControlError(
          'permissions must be an array of strings, e.g. ["Mail.ReadWrite", "Mail.Send"]',
        );
      }
      const registration: AppRegistration = {
        tenantId: typeof body.tenantId === 'string' ? body.tenantId : DEFAULT_TENANT_ID,
        clientId: randomUUID(),
        clientSecret:
          typeof body.clientSecret === 'string'
            ? body.clientSecret
            : `fake~${randomBytes(24).toString('base64url')}`,
        displayName: typeof body.displayName === 'string' ? body.displayName : 'Fake app',
        permissions: permissions as string[],
        adminConsent: body.adminConsent !== false,
      };
      return { app: deps.apps.add(registration) };
    }),
  );

  app.get('/_fake/users', async () => ({ users: control.mailboxes().map((m) => m.user) }));
  app.post(
    '/_fake/users',
    handle((_p, body) => ({ user: control.addUser(body as never).user })),
  );
  app.get(
    '/_fake/mailboxes/:user/folders',
    handle((p) => {
      const mailbox = control.mailbox(p.user!);
      return {
        folders: [...mailbox.folders.values()].map((f) => ({
          ...renderFolder(mailbox, f),
          wellKnownName: f.wellKnownName,
        })),
      };
    }),
  );
  app.get(
    '/_fake/mailboxes/:user/messages',
    handle((p, _b, q) => ({ messages: control.snapshot(p.user!, q.folder) })),
  );
  app.post(
    '/_fake/mailboxes/:user/messages',
    handle((p, body) => ({
      messages: control
        .deliver(p.user!, body as never)
        .map((m) => ({ id: m.id, immutableId: m.immutableId, folderId: m.folderId })),
    })),
  );
  app.patch(
    '/_fake/messages/:id',
    handle((p, body) => ({ id: control.change(p.id!, body as never).id })),
  );
  app.post(
    '/_fake/messages/:id/move',
    handle((p, body) => {
      if (typeof body.folder !== 'string')
        throw new ControlError('send { "folder": "archive" } (a folder id or well-known name)');
      const moved = control.move(p.id!, body.folder);
      return { id: moved.id, immutableId: moved.immutableId, folderId: moved.folderId };
    }),
  );
  app.delete(
    '/_fake/messages/:id',
    handle((p) => {
      control.remove(p.id!);
      return { deleted: true };
    }),
  );
  app.post(
    '/_fake/delta/expire',
    handle((_p, body) => ({ expired: control.expireDelta(body as never) })),
  );
  app.post(
    '/_fake/throttle',
    handle((_p, body) => {
      const rule = throttleRule(body, deps.kit.clock.now());
      deps.kit.faults.add([rule]);
      return { rule };
    }),
  );
  app.get('/_fake/subscriptions', async () => ({
    subscriptions: deps.subscriptions.list().map((s) => ({
      id: s.id,
      applicationId: s.applicationId,
      resource: s.resource,
      changeType: [...s.changeTypes].join(','),
      notificationUrl: s.notificationUrl,
      lifecycleNotificationUrl: s.lifecycleNotificationUrl,
      expirationDateTime: iso(s.expiresAt),
      authorizedAt: iso(s.authorizedAt),
      paused: s.paused,
    })),
  }));
  app.post(
    '/_fake/subscriptions/:id/lifecycle',
    handle((p, body) => ({ sent: control.lifecycle(p.id!, String(body.event ?? '')) })),
  );
  app.get('/_fake/notifications', async () => ({ deliveries: deps.sender.deliveries() }));
  app.get('/_fake/settings', async () => ({ settings: deps.settings.get() }));
  app.post(
    '/_fake/settings',
    handle((_p, body) => ({ settings: deps.settings.set(body) })),
  );
}

/** A fault answering as Graph throttles: 429 (or 503/504) with a Retry-After that may be fractional. */
function throttleRule(body: Record<string, unknown>, now: number) {
  const status = body.status ?? 429;
  if (status !== 429 && status !== 503 && status !== 504)
    throw new ControlError('status must be 429, 503 or 504');
  const retryAfter = body.retryAfter ?? 1;
  if (typeof retryAfter !== 'number' || !(retryAfter >= 0))
    throw new ControlError('retryAfter must be seconds (a number ≥ 0, fractions allowed)');
  const times = body.times ?? 1;
  if (typeof times !== 'number' || !Number.isInteger(times) || times < 0)
    throw new ControlError('times must be an integer ≥ 0');
  const code =
    typeof body.code === 'string' ? body.code : status === 429 ? 'TooManyRequests' : 'ServiceUnavailable';
  const message =
    code === 'ApplicationThrottled'
      ? 'Application is over its MailboxConcurrency limit.'
      : status === 429
        ? 'Please retry again later.'
        : 'The service is temporarily unavailable.';
  return {
    ...(typeof body.method === 'string' && { method: body.method }),
    path: typeof body.path === 'string' ? body.path : '/v1.0/',
    status,
    times,
    headers: { 'Retry-After': String(retryAfter), 'content-type': 'application/json' },
    body: {
      error: {
        code,
        message,
        innerError: {
          code: String(status),
          status: String(status),
          date: iso(now),
          'request-id': randomUUID(),
          'client-request-id': randomUUID(),
        },
      },
    },
  };
}
