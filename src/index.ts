/**
 * `patchbay`: the engine for library use, plus the pieces most users reach for first — the connectors among
 * them (`await engine.connectors.api('mail', msgraphConnector)`). Narrower entry points:
 * `patchbay/webhooks` (verifiers, signing, SSRF guard), `patchbay/resilience` (policies), `patchbay/http`
 * (the HTTP client) and `patchbay/testing` (fake clock, chaos upstream).
 *
 * ```ts
 * import { Engine, loadConfig } from 'patchbay';
 * const { config } = await loadConfig();
 * const engine = await Engine.open({ config });
 * engine.on('gh.push', async (event) => { … });
 * await engine.startWorkers();
 * ```
 */
export {
  builtInConnectors,
  type ConnectionCheck,
  type Connector,
  ConnectorClients,
  type ConnectorContext,
  type CrmRecord,
  type FinaleApi,
  type FinaleSettings,
  finaleConnector,
  finalePurchaseOrders,
  finaleStock,
  finaleVendors,
  type GitHubApi,
  type GitHubSettings,
  type GraphMessage,
  githubConnector,
  githubIssues,
  githubPulls,
  HubSpotApi,
  type HubSpotSettings,
  hubspotCompanies,
  hubspotConnector,
  hubspotContacts,
  hubspotDeals,
  hubspotObjects,
  type Mail,
  MsGraphMail,
  type MsGraphSettings,
  MsGraphSubscriptions,
  msgraphConnector,
  msgraphMailFolders,
  msgraphMessages,
  OnceOnlyMailer,
  type OpenAIApi,
  type OpenAISettings,
  type OutgoingMail,
  openaiConnector,
  type ProviderDefinition,
  type SendGridApi,
  type SendGridSettings,
  type SendOutcome,
  type StripeApi,
  type StripeSettings,
  sendgridConnector,
  stripeConnector,
} from './connectors/index.js';
export { type Clock, systemClock } from './core/clock.js';
export {
  ConfigError,
  loadConfig,
  type PatchbayConfig,
  type PatchbayConfigInput,
  parseConfig,
} from './core/config/index.js';
export { ErrorCode, isPatchbayError, PatchbayError } from './core/errors.js';
export type { EventPublisher, PublishInput } from './core/publisher.js';
export { Engine, type EngineOptions } from './engine/index.js';
export {
  type Checkpoint,
  type ConflictPolicy,
  CursorExpiredError,
  defineSync,
  defineSyncModel,
  type FetchContext,
  type IntegrityCheck,
  type IntegrityFigures,
  type IntegrityReport,
  isCursorExpired,
  type LocalChange,
  type PushFunction,
  type PushOutcome,
  type SyncContext,
  type SyncDefinition,
  type SyncDefinitionInput,
  type SyncMode,
  type SyncModel,
  type SyncModelDefinition,
  type SyncPage,
  type SyncRecord,
} from './sync/index.js';
export {
  createWebhookVerifier,
  generateWebhookSecret,
  signStandardWebhook,
  verifyWebhook,
  type WebhookSchemeName,
} from './webhooks/index.js';
