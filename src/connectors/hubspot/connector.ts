import type { Connector } from '../provider.js';
import { type HubSpotSettings, hubspotDefinition } from './definition.js';
import { HubSpotApi } from './hubspot-api.js';

/** HubSpot as a connection gets it: the definition, and the typed CRM calls over its client. */
export const hubspotConnector: Connector<HubSpotSettings, HubSpotApi> = {
  definition: hubspotDefinition,
  api: (client, { clock }) => new HubSpotApi(client, { clock }),
};
