/**
 * Connectors: one folder per provider (definition, calls, webhook preset, sync models, fake), and the
 * factory that turns a connection into a ready client.
 */
export {
  type ConnectionCheck,
  type ConnectionReader,
  ConnectorClients,
  type ConnectorClientsOptions,
} from './connector-clients.js';
export {
  type FinaleApi,
  type FinaleSettings,
  finaleConnector,
  finaleDefinition,
  finalePurchaseOrders,
  finaleStock,
  finaleVendors,
  type PurchaseOrderRecord,
  type StockLevel,
  type StockRecord,
  type VendorRecord,
} from './finale/index.js';
export {
  type GitHubApi,
  type GitHubSettings,
  githubConnector,
  githubDefinition,
  githubIssues,
  githubPulls,
} from './github/index.js';
export * from './hubspot/index.js';
export {
  type GraphMessage,
  MsGraphMail,
  type MsGraphSettings,
  MsGraphSubscriptions,
  msgraphConnector,
  msgraphDefinition,
  msgraphMailFolders,
  msgraphMessages,
  type OutgoingMail,
  type SendOutcome,
} from './msgraph/index.js';
export {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  type EmbeddingsResult,
  type OpenAIApi,
  type OpenAISettings,
  openaiConnector,
  openaiDefinition,
} from './openai/index.js';
export type {
  Connector,
  ConnectorContext,
  ProviderAuth,
  ProviderCheck,
  ProviderDefinition,
  ProviderRateLimit,
  ProviderTimeouts,
  ProviderWebhook,
} from './provider.js';

import { type ConnectorRegistry, loadBuiltInConnectors } from './registry.js';

export {
  builtInConnectorSource,
  builtInProviderIds,
  type ConnectorRegistry,
  type ConnectorSource,
  connectorSourceOf,
  loadBuiltInConnectors,
  syncModelsFor,
} from './registry.js';

/** Every connector Patchbay ships, by provider id (this entry loads them all; the engine loads what it uses). */
export const builtInConnectors: ConnectorRegistry = await loadBuiltInConnectors();
export type { SendLedger } from './send-ledger.js';
export {
  type Mail,
  OnceOnlyMailer,
  type OnceOnlyResult,
  type SendGridApi,
  type SendGridSettings,
  sendgridConnector,
  sendgridDefinition,
} from './sendgrid/index.js';
export { settingsOf } from './settings.js';
export {
  type StripeApi,
  type StripeSettings,
  stripeConnector,
  stripeDefinition,
} from './stripe/index.js';
