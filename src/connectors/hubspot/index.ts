export type { AssociationSpec } from './calls/associations.js';
export type { BatchFailure, BatchItem, BatchResultItem } from './calls/batch.js';
export type { AssociationInput, ReadOptions } from './calls/objects.js';
export type { PropertyInput } from './calls/properties.js';
export { SEARCH_LIMITS, type SearchFilter, type SearchOperator, type SearchQuery } from './calls/search.js';
export type { WindowedQuery, WindowPage } from './calls/search-windows.js';
export { hubspotConnector } from './connector.js';
export { HUBSPOT_API, type HubSpotSettings, hubspotDefinition, hubspotSettingsSchema } from './definition.js';
export {
  callError,
  hubspotErrorReader,
  SECONDLY_LIMIT_MESSAGE,
  unknownPropertiesError,
  unknownPropertiesIn,
  unknownPropertiesOf,
} from './errors.js';
export { HubSpotApi, type HubSpotApiOptions } from './hubspot-api.js';
export {
  type AssociationFailure,
  type AssociationPair,
  HubSpotAssociations,
} from './hubspot-associations.js';
export type { BatchOptions, HubSpotBatchResult } from './hubspot-batch.js';
export { HubSpotObjects, type Properties, type WriteOptions } from './hubspot-objects.js';
export { HubSpotProperties } from './hubspot-properties.js';
export { type HubSpotTier, TIER_LIMITS, TIERS } from './limits.js';
export { checkObjectType, modifiedProperty, STANDARD_OBJECTS } from './object-type.js';
export { toPropertyValues } from './property-values.js';
export type { HubSpotAssociation, HubSpotObject, HubSpotOwner, HubSpotProperty } from './schemas.js';
export {
  type CrmCheckpoint,
  type CrmModelOptions,
  crmDefinition,
  hubspotCompanies,
  hubspotContacts,
  hubspotDeals,
  hubspotObjects,
} from './sync-models.js';
export { type CrmPushOptions, crmPush } from './sync-push.js';
export { type CrmRecord, crmRecord, crmRecordSchema } from './sync-records.js';
