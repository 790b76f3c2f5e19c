import { createHash } from 'node:crypto';
import { newId } from '../core/ids.js';
import type { NewEvent } from '../store/event-store.js';
import type { RecordChange } from '../store/sync/index.js';
import { changedFields } from './canonical-json.js';

/** Change events are published under this source: filters read `syncs.<syncId>.record.*`. */
export const SYNC_EVENT_SOURCE = 'syncs';

/** Who made a change: the source (a fetch), a local write pushed to it, or `verify --repair`. */
export type ChangeOrigin = 'source' | 'local' | 'repair';

/**
 * The idempotency key of a change: (sync, id, revision, hash), and the row's first-seen time. The hash
 * alone would make a record that goes A → B → A → B repeat an earlier key (and the event log would drop
 * the second A → B as a duplicate); the revision, bumped by every change in the record's own row, makes
 * each change unique, and the first-seen time keeps that true for a row stored anew (a reset sync).
 */
export function changeKey(syncId: string, change: RecordChange): string {
  return createHash('sha256')
    .update(
      `${syncId}\u0000${change.id}\u0000${change.firstSeenAt}\u0000${change.revision}\u0000${change.hash}\u0000${change.kind}`,
    )
    .digest('base64url')
    .slice(0, 32);
}

/**
 * The event of one change: type `<syncId>.record.created|updated|deleted`, body `{ syncId, id, change,
 * revision, hash, previousHash, changedFields, origin, runId, data }` (data: the record now; for a
 * delete, as it was). `value` is the parsed record when the caller has it (saves a parse).
 */
export function changeEvent(
  syncId: string,
  change: RecordChange,
  meta: { origin: ChangeOrigin; runId: string | null; now: number; value?: Record<string, unknown> },
): NewEvent {
  let fields: string[] = [];
  if (change.kind === 'updated') {
    fields = changedFields(
      change.previousData === null ? undefined : (JSON.parse(change.previousData) as Record<string, unknown>),
      meta.value ?? (JSON.parse(change.data) as Record<string, unknown>),
    );
  } else if (change.kind === 'created') {
    fields = Object.keys(meta.value ?? (JSON.parse(change.data) as Record<string, unknown>)).sort();
  }
  // The record is canonical JSON already: spliced in, not parsed and serialised again.
  const head = JSON.stringify({
    syncId,
    id: change.id,
    change: change.kind,
    revision: change.revision,
    hash: change.hash,
    previousHash: change.previousHash,
    changedFields: fields,
    origin: meta.origin,
    runId: meta.runId,
  });
  const body = Buffer.from(`${head.slice(0, -1)},"data":${change.data}}`);
  return {
    id: newId('evt', meta.now),
    source: SYNC_EVENT_SOURCE,
    externalId: changeKey(syncId, change),
    type: `${syncId}.record.${change.kind}`,
    headers: {},
    body,
    contentType: 'application/json',
    requestId: meta.runId,
    verification: 'sync',
    receivedAt: meta.now,
    occurredAt: meta.now,
  };
}
