import { randomUUID } from 'node:crypto';
import type { Directory } from './directory.js';
import { GraphFault } from './graph-errors.js';
import { type GraphRequest, type GraphRoute, json, ROLES } from './graph-route.js';
import { segmentsOf } from './graph-router.js';
import type { MailChange } from './mail-types.js';
import type { NotificationSender } from './notification-sender.js';
import { jsonBody } from './request-parts.js';
import { type FakeSubscription, iso7, type SubscriptionRegistry } from './subscriptions.js';

export interface SubscriptionSettings {
  maxExpirationMinutes: number;
  allowHttpNotificationUrls: boolean;
}

const CHANGE_TYPES = new Set(['created', 'updated', 'deleted']);
/** Outlook allows this many subscriptions per mailbox (G10). */
const PER_MAILBOX = 1000;

const invalid = (message: string) => new GraphFault(400, 'ValidationError', message);
const notFound = () => new GraphFault(404, 'ResourceNotFound', 'The object was not found.');

/** `/subscriptions`: create (with the handshake), list, get, renew by PATCH, delete, reauthorize (G10). */
export function subscriptionRoutes(
  registry: SubscriptionRegistry,
  directory: Directory,
  sender: NotificationSender,
  settings: () => SubscriptionSettings,
): GraphRoute[] {
  const own = (request: GraphRequest): FakeSubscription => {
    const subscription = registry.get(request.params.id!, request.claims.appid);
    if (!subscription) throw notFound();
    return subscription;
  };
  return [
    {
      method: 'POST',
      pattern: 'subscriptions',
      access: 'none',
      async handle(request) {
        const body = jsonBody(request);
        const target = resourceOf(body.resource, directory, request);
        const changeTypes = changeTypesOf(body.changeType);
        const notificationUrl = urlOf(body.notificationUrl, 'notificationUrl', settings());
        const lifecycleNotificationUrl =
          body.lifecycleNotificationUrl === undefined || body.lifecycleNotificationUrl === null
            ? null
            : urlOf(body.lifecycleNotificationUrl, 'lifecycleNotificationUrl', settings());
        const expiresAt = expirationOf(body.expirationDateTime, request.now, settings().maxExpirationMinutes);
        const clientState = clientStateOf(body.clientState);
        if (registry.countFor(target.mailboxId) >= PER_MAILBOX) {
          throw new GraphFault(
            403,
            'ExtensionError',
            'Operation: Create; Exception: [Status Code: Forbidden; Reason: The number of subscriptions on this mailbox has reached its limit.]',
          );
        }
        for (const url of [notificationUrl, lifecycleNotificationUrl]) {
          if (url !== null) await handshake(sender, url);
        }
        const subscription = registry.add({
          applicationId: request.claims.appid,
          tenantId: request.claims.tid,
          creatorId: randomUUID(),
          resource: String(body.resource),
          changeTypes,
          notificationUrl,
          lifecycleNotificationUrl,
          clientState,
          expiresAt,
          ...target,
        });
        return json(render(subscription, request.origin, true), 201);
      },
    },
    {
      method: 'GET',
      pattern: 'subscriptions',
      access: 'none',
      handle: (request) =>
        json({
          '@odata.context': `${request.origin}/v1.0/$metadata#subscriptions`,
          value: registry.list(request.claims.appid).map((s) => render(s, request.origin, false)),
        }),
    },
    {
      method: 'GET',
      pattern: 'subscriptions/:id',
      access: 'none',
      handle: (request) => json(render(own(request), request.origin, true)),
    },
    {
      method: 'PATCH',
      pattern: 'subscriptions/:id',
      access: 'none',
      async handle(request) {
        const subscription = own(request);
        const body = jsonBody(request);
        if (body.lifecycleNotificationUrl !== undefined && subscription.lifecycleNotificationUrl === null) {
          // G9: "You also can't add the lifecycleNotificationUrl property to an existing subscription."
          throw invalid(
            'The lifecycleNotificationUrl cannot be added to an existing subscription. Delete the subscription and create a new one with it.',
          );
        }
        const expiresAt =
          body.expirationDateTime === undefined
            ? subscription.expiresAt
            : expirationOf(body.expirationDateTime, request.now, settings().maxExpirationMinutes);
        if (body.notificationUrl !== undefined) {
          const url = urlOf(body.notificationUrl, 'notificationUrl', settings());
          await handshake(sender, url);
          subscription.notificationUrl = url;
        }
        registry.renew(subscription, expiresAt);
        return json(render(subscription, request.origin, true));
      },
    },
    {
      method: 'DELETE',
      pattern: 'subscriptions/:id',
      access: 'none',
      handle(request) {
        registry.remove(own(request).id);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      pattern: 'subscriptions/:id/reauthorize',
      access: 'none',
      handle(request) {
        registry.reauthorize(own(request));
        return { status: 204 };
      },
    },
  ];
}

/** `users/{id}/messages` or `users/{id}/mailFolders('{id}')/messages`, checked against the directory. */
function resourceOf(
  value: unknown,
  directory: Directory,
  request: GraphRequest,
): { mailboxId: string; folderId: string | null } {
  if (typeof value !== 'string' || value.trim() === '') throw invalid("The 'resource' property is required.");
  const segments = segmentsOf(`/v1.0/${value.trim().replace(/^\//, '')}`);
  const lower = segments.map((s) => s.toLowerCase());
  if (lower[0] === 'me') {
    throw new GraphFault(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
  }
  const shapeOk =
    lower[0] === 'users' &&
    ((segments.length === 3 && lower[2] === 'messages') ||
      (segments.length === 5 && lower[2] === 'mailfolders' && lower[4] === 'messages'));
  if (!shapeOk) throw invalid(`Resource '${value}' is not supported for Outlook message subscriptions.`);
  if (!request.claims.roles.some((r) => ROLES['mail.read'].includes(r))) {
    throw new GraphFault(
      403,
      'ExtensionError',
      'Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied. Check credentials and try again.]',
    );
  }
  const mailbox = directory.user(segments[1]!);
  if (!mailbox) {
    throw new GraphFault(
      404,
      'ExtensionError',
      `Operation: Create; Exception: [Status Code: NotFound; Reason: The requested user '${segments[1]}' is invalid.]`,
    );
  }
  if (segments.length === 3) return { mailboxId: mailbox.user.id, folderId: null };
  const folder = mailbox.folder(segments[3]!);
  if (!folder) {
    throw new GraphFault(
      404,
      'ExtensionError',
      'Operation: Create; Exception: [Status Code: NotFound; Reason: The specified object was not found in the store.]',
    );
  }
  return { mailboxId: mailbox.user.id, folderId: folder.id };
}

function changeTypesOf(value: unknown): Set<MailChange['changeType']> {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalid("The 'changeType' property is required.");
  const types = value.split(',').map((t) => t.trim());
  const wrong = types.find((t) => !CHANGE_TYPES.has(t));
  if (wrong !== undefined) throw invalid(`Invalid 'changeType' attribute: '${wrong}'.`);
  return new Set(types as MailChange['changeType'][]);
}

function urlOf(value: unknown, name: string, settings: SubscriptionSettings): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw invalid(`The '${name}' property must be an absolute URL.`);
  }
  if (url.protocol !== 'https:' && !(settings.allowHttpNotificationUrls && url.protocol === 'http:')) {
    throw invalid(`The '${name}' must be an https URL.`);
  }
  return String(value);
}

function expirationOf(value: unknown, now: number, maxMinutes: number): number {
  const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) throw invalid("The 'expirationDateTime' property must be a date-time.");
  if (at <= now) throw invalid('Subscription expiration must be in the future.');
  if (at > now + maxMinutes * 60_000) {
    throw invalid(`Subscription expiration can only be ${maxMinutes} minutes in the future.`);
  }
  return at;
}

function clientStateOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid("The 'clientState' property must be a string.");
  if (value.length > 128) throw invalid("The 'clientState' property can be at most 128 characters long.");
  return value;
}

async function handshake(sender: NotificationSender, url: string): Promise<void> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  if (!(await sender.validate(url, token))) {
    throw new GraphFault(
      400,
      'InvalidRequest',
      'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    );
  }
}

function render(subscription: FakeSubscription, origin: string, entity: boolean): Record<string, unknown> {
  return {
    ...(entity && { '@odata.context': `${origin}/v1.0/$metadata#subscriptions/$entity` }),
    id: subscription.id,
    resource: subscription.resource,
    applicationId: subscription.applicationId,
    changeType: [...subscription.changeTypes].join(','),
    clientState: subscription.clientState,
    notificationUrl: subscription.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: subscription.lifecycleNotificationUrl,
    expirationDateTime: iso7(subscription.expiresAt),
    creatorId: subscription.creatorId,
    includeResourceData: false,
    latestSupportedTlsVersion: 'v1_2',
    encryptionCertificate: null,
    encryptionCertificateId: null,
    notificationUrlAppId: null,
  };
}
