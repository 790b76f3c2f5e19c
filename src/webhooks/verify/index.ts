export {
  handshake,
  headersToStore,
  type ParseEventsInput,
  parseEvents,
  type VerifyWebhookInput,
  verifyWebhook,
} from './functions.js';
export { decodeHubspotUri } from './hubspot-scheme.js';
export { headersFromRaw } from './request-headers.js';
export { isWebhookScheme, schemeInfo, WEBHOOK_SCHEMES } from './schemes.js';
export type * from './types.js';
export { createWebhookVerifier, type TimedWebhookRequest, WebhookVerifier } from './verifier.js';
