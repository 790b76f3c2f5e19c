/**
 * Syncs: definitions (in code, from a connector's model, or declarative from config), the records
 * store's view of them, and the runner. See docs/syncs.md.
 */
export {
  CONFLICT_STRATEGIES,
  type ConflictPolicy,
  type ConflictSide,
  type ConflictStrategy,
  DEFAULT_SKEW_MS,
} from './conflict-policy.js';
export { CursorExpiredError, isCursorExpired } from './cursor-expired.js';
export {
  DEFAULT_DELETE_POLICY,
  DEFAULT_TIME_LIMIT_MS,
  type DeletePolicy,
  defineSync,
  type SyncDefinition,
  type SyncDefinitionInput,
  type SyncRecord,
} from './define-sync.js';
export type { FetchContext, SyncContext } from './fetch-context.js';
export {
  compareTotals,
  type IntegrityCheck,
  type IntegrityDifference,
  type IntegrityFigures,
  type IntegrityReport,
  type IntegrityTotals,
} from './integrity.js';
export type { Checkpoint, JsonValue, SyncMode, SyncPage } from './page.js';
export type { LocalChange, PushFunction, PushOutcome } from './push.js';
export {
  describeSchedule,
  nextRunTime,
  parseSchedule,
  type Schedule,
  type ScheduleInput,
} from './schedule.js';
export {
  type AnySyncModel,
  defineSyncModel,
  type SyncModel,
  type SyncModelDefinition,
} from './sync-model.js';
