export {
  type PaymentIntentInput,
  type RefundInput,
  type StripeApi,
  type StripeCallOptions,
  type StripeKeyedWriteOptions,
  type StripeListParams,
  type StripeParams,
  type StripeWriteOptions,
  stripeApi,
} from './api.js';
export { stripeConnector } from './connector.js';
export {
  STRIPE_API,
  STRIPE_API_VERSION,
  type StripeSettings,
  stripeDefinition,
  stripeRateLimits,
  stripeSettingsSchema,
} from './definition.js';
export { stripeErrorReader } from './errors.js';
export { type FormValue, formEncode, formPairs } from './form.js';
export type {
  StripeCharge,
  StripeCustomer,
  StripeEvent,
  StripePaymentIntent,
  StripeRefund,
} from './schemas.js';
