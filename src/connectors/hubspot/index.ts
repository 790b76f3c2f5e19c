export { hubspotConnector } from './connector.js';
export { HUBSPOT_API, type HubSpotSettings, hubspotDefinition, hubspotSettingsSchema } from './definition.js';
export {
  hubspotErrorReader,
  SECONDLY_LIMIT_MESSAGE,
  unknownPropertiesIn,
  unknownPropertiesOf,
} from './errors.js';
export { type HubSpotTier, TIER_LIMITS, TIERS } from './limits.js';
