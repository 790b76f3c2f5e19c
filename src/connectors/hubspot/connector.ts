import type { Connector } from '../provider.js';
import { type HubSpotSettings, hubspotDefinition } from './definition.js';
import { HubSpotApi } from './hubspot-api.js';
import { hubspotCompanies, hubspotContacts, hubspotDeals, hubspotObjects } from './sync-models.js';

/** HubSpot as a connection gets it: the definition, the typed CRM calls over its client, the sync models. */
export const hubspotConnector: Connector<HubSpotSettings, HubSpotApi> = {
  definition: hubspotDefinition,
  api: (client, { clock }) => new HubSpotApi(client, { clock }),
  models: [hubspotContacts, hubspotCompanies, hubspotDeals, hubspotObjects],
};
