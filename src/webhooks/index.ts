/**
 * `patchbay/webhooks`: runtime-neutral inbound verification and event extraction, outbound Standard
 * Webhooks signing, and the SSRF guard for outbound deliveries. The Fastify adapter is in
 * `./fastify.js` (exported here too; it needs Fastify only for types).
 */

export * from '../http/ssrf/index.js';
export {
  createWebhookPreHandler,
  type FastifyWebhookOptions,
  useRawBody,
  type WebhookReceipt,
  webhookOf,
  webhookVerification,
} from './fastify.js';
export * from './sign/index.js';
export * from './verify/index.js';
