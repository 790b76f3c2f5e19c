import type { Connector } from '../provider.js';
import { type HubSpotSettings, hubspotDefinition } from './definition.js';

/** HubSpot as a connection gets it: the definition (typed calls come next). */
export const hubspotConnector: Connector<HubSpotSettings> = {
  definition: hubspotDefinition,
};
