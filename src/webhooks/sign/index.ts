export {
  decodeWebhookSecret,
  generateWebhookSecret,
  MAX_SECRET_BYTES,
  MIN_SECRET_BYTES,
  type SignInput,
  type StandardWebhookHeaders,
  signStandardWebhook,
} from './standard-webhooks.js';
