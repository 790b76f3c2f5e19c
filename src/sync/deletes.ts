import { newId } from '../core/ids.js';
import type { RunCounts } from '../store/sync/index.js';
import { appendEvents, type CommitScope } from './page-commit.js';

/** The operational event of held deletes (source `patchbay`): `patchbay.sync.deletes_held`. */
export const DELETES_HELD = 'sync.deletes_held';

export interface FullReadEnd {
  /** Deletes the sweep made. */
  deleted: number;
  /** Deletes the safety valve holds (0 when none). */
  held: number;
  /** False when a page said the read could not list everything: nothing was deleted. */
  complete: boolean;
}

/**
 * A full read reached its end. Only a complete read deletes (Nango #1132: a failed run once wiped
 * records): the live records it did not see. More of them than the safety valve allows (a share of the
 * live records, above a floor) are held — `sync.deletes_held` says so, in the same transaction — until
 * confirmed; else the sweep deletes them now, in batches.
 */
export async function endFullRead(
  scope: CommitScope,
  complete: boolean,
  onCounts: (counts: Partial<RunCounts>) => void,
): Promise<FullReadEnd> {
  const { stores, clock } = scope.ports;
  const { id: syncId, deletes } = scope.definition;
  const generation = scope.generation;
  let held = 0;
  let sweep = false;
  await stores.database.transaction(async (tx) => {
    const now = clock.now();
    await stores.state.fence(tx, scope.lease, now, scope.leaseMs);
    if (!complete) {
      await stores.state.endFullRead(tx, syncId, {}, now);
      return;
    }
    const unseen = await stores.records.countUnseen(syncId, generation, tx);
    const live = await stores.records.count(syncId, {}, tx);
    if (unseen > deletes.floor && unseen > deletes.maxShare * live) {
      held = unseen;
      await stores.state.endFullRead(tx, syncId, { held: { generation, count: unseen, live } }, now);
      await scope.ports.events.append(tx, [
        {
          id: newId('evt', now),
          source: 'patchbay',
          externalId: `${DELETES_HELD}:${syncId}:${generation}`,
          type: DELETES_HELD,
          headers: {},
          body: Buffer.from(
            JSON.stringify({
              syncId,
              generation,
              count: unseen,
              live,
              share: live === 0 ? 1 : unseen / live,
              maxShare: deletes.maxShare,
            }),
          ),
          contentType: 'application/json',
          requestId: scope.runId,
          verification: 'api',
          receivedAt: now,
          occurredAt: now,
        },
      ]);
      if (scope.runId) await stores.runs.add(tx, scope.runId, { deletesHeld: unseen });
    } else {
      sweep = true;
      await stores.state.endFullRead(tx, syncId, { sweepGeneration: generation }, now);
    }
  });
  if (held > 0) {
    scope.ports.logger.warn(
      { sync: syncId, generation, held },
      `sync ${syncId}: a full read would delete ${held} records, more than the safety valve allows; the deletes are held until confirmed`,
    );
    onCounts({ deletesHeld: held });
  }
  const deleted = sweep ? await sweepDeletes(scope, generation, onCounts) : 0;
  return { deleted, held, complete };
}

/**
 * Deletes the live records not seen since `generation` began, a batch per transaction (each with its
 * change events), until none is left; then clears the sweep. A run cut short leaves the sweep to the
 * next run, which finishes it first.
 */
export async function sweepDeletes(
  scope: CommitScope,
  generation: number,
  onCounts: (counts: Partial<RunCounts>) => void,
  batch = 1000,
): Promise<number> {
  const { stores, clock } = scope.ports;
  const syncId = scope.definition.id;
  let total = 0;
  for (;;) {
    scope.signal?.throwIfAborted();
    const deleted = await stores.database.transaction(async (tx) => {
      const now = clock.now();
      const stamp = await stores.state.fence(tx, scope.lease, now, scope.leaseMs);
      const at = { stamp, now, generation: scope.generation };
      const changes = await stores.records.sweep(tx, syncId, generation, at, batch);
      await appendEvents(tx, scope, changes, now);
      if (scope.runId && changes.length > 0)
        await stores.runs.add(tx, scope.runId, { deleted: changes.length });
      if (changes.length < batch) await stores.state.endSweep(tx, syncId);
      return changes.length;
    });
    total += deleted;
    if (deleted > 0) onCounts({ deleted });
    if (deleted < batch) return total;
  }
}
