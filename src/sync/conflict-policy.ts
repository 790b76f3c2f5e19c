import { ErrorCode, PatchbayError } from '../core/errors.js';

/**
 * What happens when both sides changed a record since the last sync (a local write not yet pushed, and
 * a newer version from the source). Changes to different fields always merge; these decide the rest:
 * - `source-wins` (default): the source's version stands, the local change is dropped;
 * - `local-wins`: the local change is pushed over the source's version;
 * - `last-writer-wins`: the later of the source's `modifiedAt` and the local write; the local write wins
 *   only when it is later by more than `skewMs` (the clocks of two systems disagree by up to that);
 * - `field-priority`: per field, which side wins (`default` for fields not named);
 * - `manual`: neither is applied; the conflict waits in a queue, with both versions, to be resolved.
 */
export type ConflictPolicy =
  | { readonly strategy: 'source-wins' }
  | { readonly strategy: 'local-wins' }
  | { readonly strategy: 'last-writer-wins'; readonly skewMs?: number }
  | {
      readonly strategy: 'field-priority';
      readonly fields: Readonly<Record<string, ConflictSide>>;
      readonly default?: ConflictSide;
    }
  | { readonly strategy: 'manual' };

export type ConflictSide = 'source' | 'local';
export type ConflictStrategy = ConflictPolicy['strategy'];

export const CONFLICT_STRATEGIES: readonly ConflictStrategy[] = [
  'source-wins',
  'local-wins',
  'last-writer-wins',
  'field-priority',
  'manual',
];

/** Default clock skew allowance of `last-writer-wins`: 1 s. */
export const DEFAULT_SKEW_MS = 1000;

/** Accepts a policy or a strategy name; a bad one fails naming `where`. */
export function parseConflictPolicy(input: unknown, where: string): ConflictPolicy {
  if (input === undefined) return { strategy: 'source-wins' };
  const policy = (typeof input === 'string' ? { strategy: input } : input) as Record<string, unknown>;
  if (
    typeof policy !== 'object' ||
    policy === null ||
    !CONFLICT_STRATEGIES.includes(policy.strategy as never)
  ) {
    throw invalid(
      where,
      `must be one of ${CONFLICT_STRATEGIES.map((s) => `"${s}"`).join(', ')}, got ${JSON.stringify(policy?.strategy ?? input)}`,
    );
  }
  if (policy.strategy === 'last-writer-wins' && policy.skewMs !== undefined) {
    if (typeof policy.skewMs !== 'number' || !Number.isFinite(policy.skewMs) || policy.skewMs < 0) {
      throw invalid(`${where}.skewMs`, `must be a number of ms ≥ 0, got ${JSON.stringify(policy.skewMs)}`);
    }
  }
  if (policy.strategy === 'field-priority') {
    const fields = policy.fields;
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw invalid(`${where}.fields`, 'must map field names to "source" or "local"');
    }
    for (const [field, side] of Object.entries(fields)) {
      if (side !== 'source' && side !== 'local') {
        throw invalid(`${where}.fields.${field}`, `must be "source" or "local", got ${JSON.stringify(side)}`);
      }
    }
    if (policy.default !== undefined && policy.default !== 'source' && policy.default !== 'local') {
      throw invalid(`${where}.default`, `must be "source" or "local", got ${JSON.stringify(policy.default)}`);
    }
  }
  return policy as unknown as ConflictPolicy;
}

function invalid(where: string, message: string): PatchbayError {
  return new PatchbayError(ErrorCode.CONFIG_INVALID, `${where}: ${message}`);
}
