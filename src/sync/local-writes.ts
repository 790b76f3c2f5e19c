import { createHash } from 'node:crypto';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { NewChange } from '../store/sync/index.js';
import { canonicalJson, recordHash } from './canonical-json.js';
import type { SyncDefinition, SyncRecord } from './define-sync.js';
import type { SyncPorts } from './ports.js';

/** One local change: a record to create or update (`data`), or `{ id, delete: true }`. */
export interface LocalWrite {
  /** Defaults to the key of `data`; when both are given they must agree. */
  id?: string;
  data?: SyncRecord;
  delete?: boolean;
}

export interface WriteResult {
  /** Changes queued for the push. */
  accepted: { id: string; changeId: string }[];
  /** Writes that change nothing (the store already holds that record, or it is already gone). */
  unchanged: string[];
  /** Writes whose idempotency key was seen before (a repeated request): nothing written again. */
  repeated: string[];
}

/** Writes per call, at most. */
export const MAX_WRITES = 1000;

/**
 * Queues local changes for the push (`engine.syncs.write`, `POST /api/v1/syncs/:id/records`). Every
 * record is validated against the sync's schema first; any problem refuses the whole call, naming the
 * record and the field, and writes nothing. Each change remembers the stored record it was made from
 * (its base), so a source change made meanwhile is seen as a conflict, not overwritten. With an
 * idempotency key, repeating the call writes nothing twice.
 */
export async function writeLocal(
  ports: SyncPorts,
  definition: SyncDefinition,
  writes: readonly LocalWrite[],
  options: { idempotencyKey?: string } = {},
): Promise<WriteResult> {
  if (!definition.push) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `sync ${definition.id} does not push: its definition has no push, so local writes have nowhere to go`,
    );
  }
  if (!Array.isArray(writes) || writes.length === 0 || writes.length > MAX_WRITES) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `records must be a list of 1 to ${MAX_WRITES} writes`,
    );
  }
  const key = options.idempotencyKey;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'idempotencyKey must be 1–200 characters');
  }
  const problems: string[] = [];
  const parsed: { id: string; data: string | null }[] = [];
  writes.forEach((write, i) => {
    const where = `records[${i}]`;
    const result = checkWrite(definition, write, where);
    if (typeof result === 'string') problems.push(result);
    else parsed.push(result);
  });
  const ids = parsed.map((p) => p.id);
  if (new Set(ids).size !== ids.length) problems.push('records: the same id is written twice in one call');
  if (problems.length > 0) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, problems.slice(0, 20).join('; '), {
      data: { problems },
    });
  }
  const { stores, clock } = ports;
  const now = clock.now();
  const stored = await stores.records.getMany(definition.id, ids);
  const pending = await stores.changes.pendingFor(undefined, definition.id, ids);
  const result: WriteResult = { accepted: [], unchanged: [], repeated: [] };
  const changes: NewChange[] = [];
  for (const { id, data } of parsed) {
    const base = stored.get(id);
    const live = base && base.deletedAt === null ? base : undefined;
    const hash =
      data === null
        ? null
        : recordHash(
            JSON.parse(data),
            definition.volatile,
            definition.volatile.length === 0 ? data : undefined,
          );
    if (!pending.has(id) && (live?.hash ?? null) === hash) {
      result.unchanged.push(id);
      continue;
    }
    changes.push({
      id: newId('chg', now),
      externalId: id,
      data,
      baseData: live?.data ?? null,
      baseHash: live?.hash ?? null,
      idempotencyKey:
        key === undefined
          ? newId('lw', now)
          : createHash('sha256').update(`${key}\u0000${id}`).digest('base64url').slice(0, 32),
    });
  }
  const added = await stores.database.transaction((tx) =>
    stores.changes.add(tx, definition.id, changes, now),
  );
  for (const change of changes) {
    if (added.has(change.id)) result.accepted.push({ id: change.externalId, changeId: change.id });
    else result.repeated.push(change.externalId);
  }
  if (result.accepted.length > 0) await stores.state.request(definition.id, 'incremental', 'write', now);
  return result;
}

function checkWrite(
  definition: SyncDefinition,
  write: LocalWrite,
  where: string,
): { id: string; data: string | null } | string {
  if (typeof write !== 'object' || write === null) return `${where}: must be an object`;
  if (write.delete === true) {
    if (typeof write.id !== 'string' || write.id === '') return `${where}.id: a delete needs the record's id`;
    return { id: write.id, data: null };
  }
  if (typeof write.data !== 'object' || write.data === null || Array.isArray(write.data)) {
    return `${where}.data: must be the record (an object), or set delete: true`;
  }
  const parsed = definition.schema.safeParse(write.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `${where}.data${issue.path.length > 0 ? `.${issue.path.map(String).join('.')}` : ''}: ${issue.message}`;
  }
  let id: string;
  try {
    id = definition.keyOf(parsed.data);
  } catch (err) {
    return `${where}.data: ${errorMessage(err)}`;
  }
  if (write.id !== undefined && write.id !== id) {
    return `${where}.id: "${write.id}" is not the id of its data ("${id}")`;
  }
  try {
    return { id, data: canonicalJson(parsed.data) };
  } catch (err) {
    return `${where}.data: ${errorMessage(err)}`;
  }
}
