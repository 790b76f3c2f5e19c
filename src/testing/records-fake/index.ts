export {
  PAGINATION_STYLES,
  type PaginationStyle,
  type RecordsFakeOptions,
  type RecordsFakeSettings,
  type RunningRecordsFake,
  recordsFake,
  startRecordsFake,
} from './records-fake.js';
export type { BodyFormat } from './records-formats.js';
export { type FakeRecord, RecordsState } from './records-state.js';
export { type RecordsSyncRequestOptions, recordsSyncRequest } from './records-sync-request.js';
