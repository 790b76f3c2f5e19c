import type { HttpRequest } from '../../http/http-types.js';
import { type GraphSubscription, pageSchema, subscriptionSchema } from './schemas.js';

export interface NewSubscription {
  /** `users/{id}/mailFolders('{id}')/messages` or `users/{id}/messages`. */
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  /** The secret Graph repeats in every notification (at most 128 characters). */
  clientState: string;
  expirationDateTime: string;
}

/** `POST /subscriptions` (subscription-post-subscriptions.md): Graph validates both URLs before its 201. */
export function createSubscriptionRequest(
  input: NewSubscription,
  signal?: AbortSignal,
): HttpRequest<GraphSubscription> {
  return {
    method: 'POST',
    path: '/v1.0/subscriptions',
    body: input,
    schema: subscriptionSchema,
    ...(signal && { signal }),
  };
}

/** `PATCH /subscriptions/{id}`: a new expiry, which also reauthorizes (G9). */
export function renewSubscriptionRequest(
  id: string,
  expirationDateTime: string,
  signal?: AbortSignal,
): HttpRequest<GraphSubscription> {
  return {
    method: 'PATCH',
    path: `/v1.0/subscriptions/${encodeURIComponent(id)}`,
    body: { expirationDateTime },
    schema: subscriptionSchema,
    ...(signal && { signal }),
  };
}

/** `POST /subscriptions/{id}/reauthorize`: 204, the expiry unchanged. */
export function reauthorizeSubscriptionRequest(id: string, signal?: AbortSignal): HttpRequest {
  return {
    method: 'POST',
    path: `/v1.0/subscriptions/${encodeURIComponent(id)}/reauthorize`,
    ...(signal && { signal }),
  };
}

export function deleteSubscriptionRequest(id: string, signal?: AbortSignal): HttpRequest {
  return {
    method: 'DELETE',
    path: `/v1.0/subscriptions/${encodeURIComponent(id)}`,
    ...(signal && { signal }),
  };
}

export function getSubscriptionRequest(id: string, signal?: AbortSignal): HttpRequest<GraphSubscription> {
  return {
    path: `/v1.0/subscriptions/${encodeURIComponent(id)}`,
    schema: subscriptionSchema,
    ...(signal && { signal }),
  };
}

export function listSubscriptionsRequest(signal?: AbortSignal): HttpRequest<{ value: GraphSubscription[] }> {
  return { path: '/v1.0/subscriptions', schema: pageSchema(subscriptionSchema), ...(signal && { signal }) };
}
