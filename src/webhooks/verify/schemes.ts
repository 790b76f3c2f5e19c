import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { githubScheme } from './github-scheme.js';
import { hmacSha256Scheme } from './hmac-sha256-scheme.js';
import { hubspotV1Scheme, hubspotV2Scheme, hubspotV3Scheme } from './hubspot-scheme.js';
import { msgraphScheme } from './msgraph-scheme.js';
import { noneScheme } from './none-scheme.js';
import type { SchemeDefinition } from './scheme.js';
import { sendgridScheme } from './sendgrid-scheme.js';
import { slackScheme } from './slack-scheme.js';
import { standardWebhooksScheme } from './standard-webhooks-scheme.js';
import { stripeScheme } from './stripe-scheme.js';
import type { WebhookSchemeInfo, WebhookSchemeName } from './types.js';

const definitions: Record<WebhookSchemeName, SchemeDefinition> = {
  'standard-webhooks': standardWebhooksScheme,
  github: githubScheme,
  stripe: stripeScheme,
  'hubspot-v1': hubspotV1Scheme,
  'hubspot-v2': hubspotV2Scheme,
  'hubspot-v3': hubspotV3Scheme,
  slack: slackScheme,
  msgraph: msgraphScheme,
  sendgrid: sendgridScheme,
  'hmac-sha256': hmacSha256Scheme,
  none: noneScheme,
};

/** Every scheme name, in the order the configuration lists them. */
export const WEBHOOK_SCHEMES = Object.freeze(Object.keys(definitions)) as readonly WebhookSchemeName[];

export function isWebhookScheme(name: unknown): name is WebhookSchemeName {
  return typeof name === 'string' && Object.hasOwn(definitions, name);
}

export function schemeDefinition(name: WebhookSchemeName): SchemeDefinition {
  if (!isWebhookScheme(name)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `unknown webhook scheme ${JSON.stringify(name)}; expected one of ${WEBHOOK_SCHEMES.map((s) => `"${s}"`).join(', ')}`,
    );
  }
  return definitions[name];
}

/** Which headers carry signatures, the default replay window, and when a handshake may answer. */
export function schemeInfo(name: WebhookSchemeName): WebhookSchemeInfo {
  return schemeDefinition(name).info;
}
