import { errorMessage } from '../core/errors.js';
import type { IncomingRecord, RunCounts, SyncChange } from '../store/sync/index.js';
import { canonicalJson, changedFields, recordHash } from './canonical-json.js';
import type { SyncRecord } from './define-sync.js';
import type { SyncContext } from './fetch-context.js';
import { appendEvents, type CommitScope, settleChange } from './page-commit.js';
import type { LocalChange, PushOutcome } from './push.js';

/** A push failing again and again gives up after this many attempts (then `failed`, listed by the API). */
export const MAX_PUSH_ATTEMPTS = 10;

/** Wait before the next attempt of a failed push: 30 s doubling, at most 1 h. */
export function pushBackoffMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/**
 * Pushes the sync's due local changes, a batch per `push` call. Before each batch, a change whose
 * record the source changed since it was written (a fetch stored a newer version meanwhile) is judged
 * by the conflict policy. After it, in one fenced transaction: successes are stored as the source's
 * new version (the connector's returned record, else the pushed data) with their change events, so the
 * write coming back through a fetch is unchanged — no event, no conflict (echo suppression); failures
 * are kept per change, retried later with backoff, or failed for good.
 */
export async function pushPending(
  scope: CommitScope,
  ctx: SyncContext,
  onCounts: (counts: Partial<RunCounts>) => void,
): Promise<{ pushed: number; failed: number }> {
  const { definition, ports } = scope;
  const { stores, clock } = ports;
  const push = definition.push;
  let pushed = 0;
  let failed = 0;
  if (!push) return { pushed, failed };
  let afterId: string | undefined;
  for (;;) {
    ctx.signal.throwIfAborted();
    const due = await stores.changes.due(definition.id, clock.now(), definition.pushBatchSize, afterId);
    if (due.length === 0) break;
    afterId = due.at(-1)!.id;
    const ready = await settleStale(scope, due);
    if (ready.length === 0) continue;
    const stored = await stores.records.getMany(
      definition.id,
      ready.map((c) => c.externalId),
    );
    const batch: LocalChange<SyncRecord>[] = ready.map((c) => {
      const base = stored.get(c.externalId);
      const baseValue = base && base.deletedAt === null ? (JSON.parse(base.data) as SyncRecord) : undefined;
      const data = c.data === null ? null : (JSON.parse(c.data) as SyncRecord);
      return {
        id: c.externalId,
        data,
        base: baseValue,
        changedFields: data === null ? [] : changedFields(baseValue, data),
        idempotencyKey: c.idempotencyKey,
      };
    });
    let outcomes: readonly PushOutcome<SyncRecord>[];
    try {
      outcomes = await push(ctx, batch);
    } catch (err) {
      ctx.signal.throwIfAborted();
      const error = `push failed: ${errorMessage(err)}`;
      outcomes = batch.map((c) => ({ id: c.id, ok: false, error, retryable: true }));
    }
    const result = await settle(scope, ready, outcomes);
    pushed += result.pushed;
    failed += result.failed;
    onCounts({ pushed: result.pushed, pushFailed: result.failed });
  }
  return { pushed, failed };
}

/** Changes whose record moved at the source since they were written are judged first; the rest go. */
async function settleStale(scope: CommitScope, due: readonly SyncChange[]): Promise<SyncChange[]> {
  const { stores, clock } = scope.ports;
  const syncId = scope.definition.id;
  const stored = await stores.records.getMany(
    syncId,
    due.map((c) => c.externalId),
  );
  const stale = due.filter((c) => {
    const s = stored.get(c.externalId);
    return (s && s.deletedAt === null ? s.hash : null) !== c.baseHash;
  });
  if (stale.length === 0) return [...due];
  let conflicts = 0;
  await stores.database.transaction(async (tx) => {
    const now = clock.now();
    await stores.state.fence(tx, scope.lease, now, scope.leaseMs);
    for (const change of stale) {
      const s = stored.get(change.externalId);
      const source =
        s && s.deletedAt === null
          ? { data: s.data, hash: s.hash, value: JSON.parse(s.data) as SyncRecord, modifiedAt: s.modifiedAt }
          : null;
      conflicts += await settleChange(tx, scope, change, source, now);
    }
    if (scope.runId && conflicts > 0) await stores.runs.add(tx, scope.runId, { conflicts });
  });
  // Judged changes that are still pending (rebased on the source's version) are read again.
  const again = await stores.changes.pendingFor(
    undefined,
    syncId,
    stale.map((c) => c.externalId),
  );
  const staleIds = new Set(stale.map((c) => c.id));
  return [...due.filter((c) => !staleIds.has(c.id)), ...again.values()];
}

async function settle(
  scope: CommitScope,
  changes: readonly SyncChange[],
  outcomes: readonly PushOutcome<SyncRecord>[],
): Promise<{ pushed: number; failed: number }> {
  const { stores, clock, logger } = scope.ports;
  const { definition } = scope;
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  let pushed = 0;
  let failed = 0;
  await stores.database.transaction(async (tx) => {
    const now = clock.now();
    const stamp = await stores.state.fence(tx, scope.lease, now, scope.leaseMs);
    const at = { stamp, now, generation: scope.generation };
    const upserts: IncomingRecord[] = [];
    const values = new Map<string, SyncRecord>();
    const deletes: string[] = [];
    const done: string[] = [];
    for (const change of changes) {
      const outcome = byId.get(change.externalId) ?? {
        id: change.externalId,
        ok: false as const,
        error: 'push gave no outcome for this record',
        retryable: true,
      };
      if (outcome.ok) {
        pushed++;
        done.push(change.id);
        if (change.data === null) {
          deletes.push(change.externalId);
          continue;
        }
        const value = storedVersion(scope, change, outcome.record);
        const data = canonicalJson(value);
        upserts.push({
          id: change.externalId,
          data,
          hash: recordHash(value, definition.volatile, data),
          modifiedAt: definition.modifiedAt?.(value) ?? null,
        });
        values.set(change.externalId, value);
      } else {
        failed++;
        const attempts = change.attempts + 1;
        const retry = outcome.retryable !== false && attempts < MAX_PUSH_ATTEMPTS;
        await stores.changes.failed(
          tx,
          change.id,
          outcome.error,
          retry ? now + pushBackoffMs(attempts) : null,
          now,
        );
        logger.warn(
          { sync: definition.id, id: change.externalId, attempts, retry },
          `sync ${definition.id}: push of ${change.externalId} failed: ${outcome.error}`,
        );
      }
    }
    await stores.changes.setStatus(tx, done, 'pushed', now);
    const changed = await stores.records.apply(tx, definition.id, upserts, at);
    const deleted = await stores.records.tombstone(tx, definition.id, deletes, at);
    const local = { ...scope, origin: 'local' as const };
    await appendEvents(tx, local, [...changed, ...deleted], now, values);
    if (scope.runId) await stores.runs.add(tx, scope.runId, { pushed, pushFailed: failed });
  });
  return { pushed, failed };
}

/** What to store after a successful push: the source's version when the connector returned a valid one. */
function storedVersion(scope: CommitScope, change: SyncChange, returned: SyncRecord | undefined): SyncRecord {
  const pushed = JSON.parse(change.data!) as SyncRecord;
  if (returned === undefined) return pushed;
  const parsed = scope.definition.schema.safeParse(returned);
  if (parsed.success && typeof parsed.data === 'object' && parsed.data !== null) return parsed.data;
  scope.ports.logger.warn(
    { sync: scope.definition.id, id: change.externalId },
    `sync ${scope.definition.id}: the record push returned for ${change.externalId} does not match the schema; storing the pushed data`,
  );
  return pushed;
}
