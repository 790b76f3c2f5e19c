import { canonicalJson, changedFields } from './canonical-json.js';
import { type ConflictPolicy, type ConflictSide, DEFAULT_SKEW_MS } from './conflict-policy.js';

type Rec = Record<string, unknown>;

/** Both sides of a record changed since `base` (what the local change started from). */
export interface ConflictInput {
  /** null when the local change created the record. */
  base: Rec | null;
  /** null: the local change deletes it. */
  local: Rec | null;
  /** null: the source deleted it. */
  source: Rec | null;
  localWrittenAt: number;
  /** The source's modification time of its version, when the model says where it is. */
  sourceModifiedAt: number | undefined;
}

/**
 * - `converged`: both sides hold the same record; the change has nothing left to do;
 * - `source`: the source's version stands; the change is dropped (`merged`: nothing overlapped, the
 *   local change was already in it);
 * - `push`: push `data` (the local change rebased on the source's version: non-overlapping fields
 *   merged, overlapping ones as the policy decided); `merged` when no field overlapped;
 * - `manual`: a person decides (the conflict queue).
 */
export type Resolution =
  | { kind: 'converged' }
  | { kind: 'source'; merged: boolean }
  | { kind: 'push'; data: Rec | null; merged: boolean }
  | { kind: 'manual'; fields: string[] };

/**
 * Decides a conflict, a pure function of the policy and both versions. Changes to different fields
 * always merge (`{ ...source, ...local's changes }`); fields both sides changed to different values go
 * to the side the policy names. A delete on either side conflicts with the whole record.
 */
export function resolveConflict(policy: ConflictPolicy, input: ConflictInput): Resolution {
  const { base, local, source } = input;
  if (canonicalJson(local) === canonicalJson(source)) return { kind: 'converged' };
  if (local === null || source === null) {
    if (policy.strategy === 'manual') return { kind: 'manual', fields: ['(record)'] };
    const side = sideOf(policy, '(record)', input);
    return side === 'local'
      ? { kind: 'push', data: local, merged: false }
      : { kind: 'source', merged: false };
  }
  const from = base ?? {};
  const localChanged = changedFields(from, local);
  const sourceChanged = new Set(changedFields(from, source));
  const overlap = localChanged.filter(
    (f) => sourceChanged.has(f) && canonicalJson(local[f]) !== canonicalJson(source[f]),
  );
  if (overlap.length > 0 && policy.strategy === 'manual') return { kind: 'manual', fields: overlap };
  const merged: Rec = { ...source };
  const overlapping = new Set(overlap);
  for (const field of localChanged) {
    if (overlapping.has(field) && sideOf(policy, field, input) === 'source') continue;
    if (Object.hasOwn(local, field)) merged[field] = local[field];
    else delete merged[field];
  }
  if (canonicalJson(merged) === canonicalJson(source))
    return { kind: 'source', merged: overlap.length === 0 };
  return { kind: 'push', data: merged, merged: overlap.length === 0 };
}

function sideOf(policy: ConflictPolicy, field: string, input: ConflictInput): ConflictSide {
  switch (policy.strategy) {
    case 'source-wins':
    case 'manual':
      return 'source';
    case 'local-wins':
      return 'local';
    case 'field-priority':
      return policy.fields[field] ?? policy.default ?? 'source';
    case 'last-writer-wins': {
      // Without the source's time there is no telling who wrote last: the source, as the system of record.
      if (input.sourceModifiedAt === undefined) return 'source';
      const skew = policy.skewMs ?? DEFAULT_SKEW_MS;
      return input.localWrittenAt > input.sourceModifiedAt + skew ? 'local' : 'source';
    }
  }
}
