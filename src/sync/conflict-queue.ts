import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { SyncConflict } from '../store/sync/index.js';
import { canonicalJson } from './canonical-json.js';
import type { SyncDefinition, SyncRecord } from './define-sync.js';
import type { SyncPorts } from './ports.js';

/** How a person settles a conflict: keep the local change, keep the source's version, or a merge. */
export type ConflictChoice = 'local' | 'source' | { data: SyncRecord };

/**
 * Settles a conflict of the manual queue. `local`: the local change is pushed over the source's
 * version; `source`: the change is dropped; `{ data }`: that record (validated against the schema) is
 * pushed. The change is rebased on the source's version the conflict holds, so it is not judged a
 * conflict again — unless the source changes once more before the push.
 */
export async function settleConflict(
  ports: SyncPorts,
  definition: SyncDefinition,
  conflictId: string,
  choice: ConflictChoice,
): Promise<SyncConflict> {
  const { stores, clock } = ports;
  const conflict = await stores.conflicts.get(definition.id, conflictId);
  if (!conflict)
    throw new PatchbayError(ErrorCode.NOT_FOUND, `sync ${definition.id} has no conflict ${conflictId}`);
  if (conflict.status !== 'open') {
    throw new PatchbayError(
      ErrorCode.CONFLICT,
      `conflict ${conflictId} is already resolved (${conflict.resolution})`,
    );
  }
  let data: string | null | undefined;
  let resolution: 'local' | 'source' | 'merged';
  if (choice === 'local') {
    data = conflict.localData;
    resolution = 'local';
  } else if (choice === 'source') {
    resolution = 'source';
  } else if (
    typeof choice === 'object' &&
    choice !== null &&
    typeof choice.data === 'object' &&
    choice.data !== null
  ) {
    const parsed = definition.schema.safeParse(choice.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `data${issue.path.length > 0 ? `.${issue.path.map(String).join('.')}` : ''}: ${issue.message}`,
      );
    }
    if (definition.keyOf(parsed.data) !== conflict.externalId) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `data: its id is not ${conflict.externalId}`);
    }
    data = canonicalJson(parsed.data);
    resolution = 'merged';
  } else {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      'resolution must be "local", "source" or { "data": { … } }',
    );
  }
  const now = clock.now();
  await stores.database.transaction(async (tx) => {
    if (!(await stores.conflicts.resolve(tx, conflict.id, resolution, now))) {
      throw new PatchbayError(ErrorCode.CONFLICT, `conflict ${conflictId} was resolved meanwhile`);
    }
    // A local write made while the conflict waited is newer than either side: it stands.
    const newer = (await stores.changes.pendingFor(tx, definition.id, [conflict.externalId])).size > 0;
    if (resolution === 'source' || newer) {
      await stores.changes.setStatus(tx, [conflict.changeId], 'superseded', now);
      return;
    }
    await stores.changes.rebase(
      tx,
      conflict.changeId,
      { data: data ?? null, baseData: conflict.sourceData, baseHash: conflict.sourceHash },
      now,
    );
    await stores.changes.setStatus(tx, [conflict.changeId], 'pending', now);
  });
  if (resolution !== 'source') await stores.state.request(definition.id, 'incremental', 'write', now);
  return (await stores.conflicts.get(definition.id, conflict.id))!;
}
