export { msgraphConnector } from './connector.js';
export { GRAPH_API, type MsGraphSettings, msgraphDefinition, tokenUrlOf } from './definition.js';
export { type GraphBatchAnswer, type GraphBatchRequest, graphBatch } from './graph-batch.js';
export { MsGraphMail } from './mail-api.js';
export type { AttachmentMeta, GraphFolder, GraphMessage, GraphSubscription } from './schemas.js';
export {
  IDEMPOTENCY_HEADER,
  type OutgoingMail,
  type SendMailOptions,
  type SendOutcome,
} from './send-mail.js';
export {
  type FolderSubscription,
  MsGraphSubscriptions,
  type ReconcileReport,
  resourceOf,
  type SubscriptionManagerOptions,
  type WatchedFolder,
} from './subscription-manager.js';
export {
  type MessagesCheckpoint,
  type MessagesOptions,
  msgraphMailFolders,
  msgraphMessages,
} from './sync-models.js';
export type { FolderRecord, MessageRecord } from './sync-records.js';
