/**
 * `patchbay`: the engine for library use, plus the pieces most users reach for first. Narrower entry points:
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
