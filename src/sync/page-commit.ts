import { newId } from '../core/ids.js';
import type { Tx } from '../store/database.js';
import type { NewEvent } from '../store/event-store.js';
import type { Lease, ProgressUpdate, RecordChange, RunCounts, SyncChange } from '../store/sync/index.js';
import { canonicalJson, recordHash } from './canonical-json.js';
import { type ChangeOrigin, changeEvent } from './change-events.js';
import { resolveConflict } from './conflict-resolution.js';
import type { SyncDefinition, SyncRecord } from './define-sync.js';
import type { SyncPorts } from './ports.js';
import type { PreparedPage, PreparedRecord } from './prepare-page.js';

/** Everything a commit under a lease needs besides the page. */
export interface CommitScope {
  ports: SyncPorts;
  definition: SyncDefinition;
  lease: Lease;
  leaseMs: number;
  runId: string | null;
  generation: number;
  origin: ChangeOrigin;
  /** The sync may have open quarantine entries (a stored record then supersedes its entry). */
  quarantineOpen: boolean;
  /** The run's signal: long loops (a sweep) stop when it aborts. */
  signal?: AbortSignal;
  /** The last page changed nothing: the next is tried as a quiet page (see `commitPage`). */
  quiet?: boolean;
}

/** Thrown inside a quiet attempt that finds a change: rolled back, and the page committed durably. */
const NOT_QUIET = Symbol('not quiet');

/**
 * Commits one prepared page in one transaction, first statement the lease fence: the records, the
 * tombstones, the quarantined records, the checkpoint, the run's counters, the change events (routed to
 * their deliveries in the same transaction) and, for a pushing sync, what the page means for pending
 * local changes. A crash or a lost lease leaves none of it.
 */
export async function commitPage(
  scope: CommitScope,
  page: PreparedPage,
  progress: ProgressUpdate,
): Promise<Partial<RunCounts>> {
  // A quiet page — every record as stored, nothing deleted or quarantined — commits only its checkpoint
  // and the run's counters, without waiting for the disk: lost to a power cut, it is read again and
  // changes nothing then either. Tried after a quiet page (a pass over unchanged records is mostly
  // quiet pages); one that finds a change rolls back and commits durably.
  if (scope.quiet && page.quarantined.length === 0 && !scope.definition.push) {
    try {
      return await commitOnce(scope, page, progress, true);
    } catch (err) {
      if (err !== NOT_QUIET) throw err;
    }
  }
  const counts = await commitOnce(scope, page, progress, false);
  scope.quiet = (counts.created ?? 0) + (counts.updated ?? 0) + (counts.deleted ?? 0) === 0;
  return counts;
}

async function commitOnce(
  scope: CommitScope,
  page: PreparedPage,
  progress: ProgressUpdate,
  quiet: boolean,
): Promise<Partial<RunCounts>> {
  const { ports, definition, lease } = scope;
  const { stores, clock } = ports;
  const syncId = definition.id;
  const counts: Partial<RunCounts> = { pages: 1, seen: page.seen, quarantined: page.quarantined.length };
  await stores.database.transaction(
    async (tx) => {
      const now = clock.now();
      const stamp = await stores.state.fence(tx, lease, now, scope.leaseMs, progress);
      const at = { stamp, now, generation: scope.generation };
      if (definition.push) counts.conflicts = await reconcilePending(tx, scope, page, now);
      const changes = await stores.records.apply(tx, syncId, page.records, at);
      const deleted = await stores.records.tombstone(tx, syncId, page.deleted, at);
      if (quiet && changes.length + deleted.length > 0) throw NOT_QUIET;
      if (page.quarantined.length > 0) {
        await stores.quarantine.add(tx, syncId, scope.runId, page.quarantined, now);
        // Seen at the source, even if this version could not be stored: a full read must not delete it.
        const ids = page.quarantined.map((q) => q.externalId).filter((id): id is string => id !== null);
        await stores.records.touch(tx, syncId, ids, at);
        scope.quarantineOpen = true;
      }
      if (scope.quarantineOpen && page.records.length > 0) {
        await stores.quarantine.supersede(
          tx,
          syncId,
          page.records.map((r) => r.id),
          now,
        );
      }
      const values = new Map(page.records.map((r) => [r.id, r.value]));
      await appendEvents(tx, scope, [...changes, ...deleted], now, values);
      counts.created = changes.filter((c) => c.kind === 'created').length;
      counts.updated = changes.length - counts.created;
      counts.deleted = deleted.length;
      if (scope.runId) await stores.runs.add(tx, scope.runId, counts);
    },
    { durable: !quiet },
  );
  return counts;
}

/** Change events of `changes`, appended to the event log in `tx`. */
export async function appendEvents(
  tx: Tx,
  scope: Pick<CommitScope, 'ports' | 'definition' | 'runId' | 'origin'>,
  changes: readonly RecordChange[],
  now: number,
  values?: ReadonlyMap<string, SyncRecord>,
): Promise<void> {
  if (changes.length === 0) return;
  const events: NewEvent[] = changes.map((change) =>
    changeEvent(scope.definition.id, change, {
      origin: scope.origin,
      runId: scope.runId,
      now,
      ...(values?.get(change.id) && change.kind !== 'deleted' && { value: values.get(change.id)! }),
    }),
  );
  await scope.ports.events.append(tx, events);
}

/**
 * A page bringing a newer source version of a record with a pending local change: both sides changed
 * it. The source's version is stored (it is the source's truth); the change is rebased on it, merged,
 * dropped, or parked for a person, as the sync's policy decides. Returns how many conflicted.
 */
async function reconcilePending(
  tx: Tx,
  scope: CommitScope,
  page: PreparedPage,
  now: number,
): Promise<number> {
  const { stores } = scope.ports;
  const syncId = scope.definition.id;
  const ids = [...page.records.map((r) => r.id), ...page.deleted];
  if (ids.length === 0) return 0;
  const pending = await stores.changes.pendingFor(tx, syncId, ids);
  const open = await stores.conflicts.openFor(tx, syncId, ids);
  if (pending.size === 0 && open.size === 0) return 0;
  const byId = new Map(page.records.map((r) => [r.id, r]));
  let conflicts = 0;
  for (const [id, conflict] of open) {
    const source = byId.get(id);
    await stores.conflicts.updateSource(tx, conflict.id, source?.data ?? null, source?.hash ?? null, now);
  }
  for (const [id, change] of pending) {
    const source = byId.has(id) ? byId.get(id)! : null;
    conflicts += await settleChange(tx, scope, change, source, now);
  }
  return conflicts;
}

/**
 * Judges one pending change against the source's current version (`null`: deleted there). Also used
 * by the push runner, for a source version stored after the change was written. Returns 1 for a
 * conflict (overlapping changes), else 0.
 */
export async function settleChange(
  tx: Tx,
  scope: Pick<CommitScope, 'ports' | 'definition'>,
  change: SyncChange,
  source: Pick<PreparedRecord, 'data' | 'hash' | 'value' | 'modifiedAt'> | null,
  now: number,
): Promise<number> {
  const { stores } = scope.ports;
  const syncId = scope.definition.id;
  if ((source?.hash ?? null) === change.baseHash) return 0;
  // The source already holds what the change wants (volatile fields aside): our own write read back.
  if (source && change.data !== null && localHash(scope.definition, change.data) === source.hash) {
    await stores.changes.setStatus(tx, [change.id], 'pushed', now);
    return 0;
  }
  const local = change.data === null ? null : (JSON.parse(change.data) as SyncRecord);
  const resolution = resolveConflict(scope.definition.conflicts, {
    base: change.baseData === null ? null : (JSON.parse(change.baseData) as SyncRecord),
    local,
    source: source?.value ?? null,
    localWrittenAt: change.writtenAt,
    sourceModifiedAt: source?.modifiedAt ?? undefined,
  });
  switch (resolution.kind) {
    case 'converged':
      await stores.changes.setStatus(tx, [change.id], 'pushed', now);
      return 0;
    case 'source':
      await stores.changes.setStatus(tx, [change.id], 'superseded', now);
      return resolution.merged ? 0 : 1;
    case 'push': {
      const data = resolution.data === null ? null : canonicalJson(resolution.data);
      await stores.changes.rebase(
        tx,
        change.id,
        { data, baseData: source?.data ?? null, baseHash: source?.hash ?? null },
        now,
      );
      return resolution.merged ? 0 : 1;
    }
    case 'manual':
      await stores.changes.setStatus(tx, [change.id], 'conflict', now);
      await stores.conflicts.add(
        tx,
        syncId,
        {
          id: newId('cfl', now),
          externalId: change.externalId,
          changeId: change.id,
          localData: change.data,
          sourceData: source?.data ?? null,
          baseData: change.baseData,
          sourceHash: source?.hash ?? null,
        },
        now,
      );
      return 1;
  }
}

/** The hash a local change's data would be stored with (to recognise it coming back). */
export function localHash(definition: SyncDefinition, data: string): string {
  return recordHash(
    JSON.parse(data),
    definition.volatile,
    definition.volatile.length === 0 ? data : undefined,
  );
}
