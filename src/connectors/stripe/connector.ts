import type { Connector } from '../provider.js';
import { type StripeApi, stripeApi } from './api.js';
import { type StripeSettings, stripeDefinition } from './definition.js';

/** Stripe as a connection gets it: the definition and the typed calls. */
export const stripeConnector: Connector<StripeSettings, StripeApi> = {
  definition: stripeDefinition,
  api: (client) => stripeApi(client),
};
