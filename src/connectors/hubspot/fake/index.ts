export {
  DEFAULT_CLIENT_SECRET,
  type HubSpotFake,
  type HubSpotFakeOptions,
  hubspotFake,
  type RunningHubSpotFake,
  startHubSpotFake,
} from './hubspot-fake.js';
export type { HubSpotSeed } from './seed.js';
export type { WebhookEvent } from './webhook-sender.js';
