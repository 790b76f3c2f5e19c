import type { Database } from '../database.js';
import { SyncChangeStore } from './sync-change-store.js';
import { SyncConflictStore } from './sync-conflict-store.js';
import { SyncQuarantineStore } from './sync-quarantine-store.js';
import { SyncRecordStore } from './sync-record-store.js';
import { SyncRunStore } from './sync-run-store.js';
import { SyncStateStore } from './sync-state-store.js';
import { SyncVerifyStore } from './sync-verify-store.js';

export type { SyncChangeStatus } from '../schema.js';
export * from './sync-change-store.js';
export * from './sync-conflict-store.js';
export * from './sync-quarantine-store.js';
export * from './sync-record-store.js';
export * from './sync-run-store.js';
export * from './sync-state-store.js';
export * from './sync-verify-store.js';

/** Every store the sync module uses, on one database. */
export interface SyncStores {
  readonly database: Database;
  readonly state: SyncStateStore;
  readonly runs: SyncRunStore;
  readonly records: SyncRecordStore;
  readonly changes: SyncChangeStore;
  readonly quarantine: SyncQuarantineStore;
  readonly conflicts: SyncConflictStore;
  readonly verify: SyncVerifyStore;
}

export function openSyncStores(database: Database): SyncStores {
  return {
    database,
    state: new SyncStateStore(database),
    runs: new SyncRunStore(database),
    records: new SyncRecordStore(database),
    changes: new SyncChangeStore(database),
    quarantine: new SyncQuarantineStore(database),
    conflicts: new SyncConflictStore(database),
    verify: new SyncVerifyStore(database),
  };
}
