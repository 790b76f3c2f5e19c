import { createHash, createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';

/**
 * Test-side signers, written from the providers' docs (or delegated to their own libraries) and sharing
 * no code with `src/webhooks/verify`, so a verifier bug cannot hide behind the same bug in the signer.
 */
export type Headers = Record<string, string>;

const stripe = new Stripe('sk_test_unused');

export function standardHeaders(secret: string, id: string, seconds: number, body: string): Headers {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': new Webhook(secret).sign(id, new Date(seconds * 1000), body),
  };
}

export function githubHeaders(secret: string, body: string | Buffer): Headers {
  return { 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
}

export function stripeHeaders(secret: string, seconds: number, body: string): Headers {
  return {
    'stripe-signature': stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret,
      timestamp: seconds,
    }),
  };
}

export function slackHeaders(secret: string, timestamp: string, body: string | Buffer): Headers {
  const mac = createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex');
  return { 'x-slack-signature': `v0=${mac}`, 'x-slack-request-timestamp': timestamp };
}

export function hubspotV1Headers(secret: string, body: string | Buffer): Headers {
  const hash = createHash('sha256').update(secret).update(body).digest('hex');
  return { 'x-hubspot-signature': hash, 'x-hubspot-signature-version': 'v1' };
}

export function hubspotV2Headers(
  secret: string,
  method: string,
  uri: string,
  body: string | Buffer,
): Headers {
  const hash = createHash('sha256')
    .update(secret + method + uri)
    .update(body)
    .digest('hex');
  return { 'x-hubspot-signature': hash, 'x-hubspot-signature-version': 'v2' };
}

/** `uri` must already be in the form HubSpot signs (escapes decoded). */
export function hubspotV3Headers(
  secret: string,
  method: string,
  uri: string,
  body: string | Buffer,
  timestamp: string,
): Headers {
  const mac = createHmac('sha256', secret)
    .update(method + uri)
    .update(body)
    .update(timestamp)
    .digest('base64');
  return { 'x-hubspot-signature-v3': mac, 'x-hubspot-request-timestamp': timestamp };
}
