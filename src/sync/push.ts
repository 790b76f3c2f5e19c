import type { SyncContext } from './fetch-context.js';

/** One local change for the source: written through `engine.syncs.write` or the records API. */
export interface LocalChange<R = unknown> {
  readonly id: string;
  /** The record as the local side wants it; null deletes it at the source. */
  readonly data: R | null;
  /** The record as stored when the change was written (what the local side changed); undefined: new. */
  readonly base: R | undefined;
  /** Top-level fields that differ from `base`. */
  readonly changedFields: readonly string[];
  /**
   * Stable for this change across retries and crashes: send it as the provider's idempotency key, or
   * use it to look before re-sending, so a push repeated after a crash is applied once.
   */
  readonly idempotencyKey: string;
}

/**
 * What became of one change. `record`: the source's version after the write (its ids, normalised
 * values), stored as the new local state so the write reading back through a fetch is recognised as our
 * own (echo suppression). A failure is kept for retry unless `retryable: false` (a validation error).
 */
export type PushOutcome<R = unknown> =
  | { readonly id: string; readonly ok: true; readonly record?: R }
  | { readonly id: string; readonly ok: false; readonly error: string; readonly retryable?: boolean };

/**
 * Writes a batch of changes (at most the sync's `pushBatchSize`) with the connector's write calls and
 * says what became of each: successes are applied even when others fail. An id with no outcome counts
 * as a retryable failure; a throw fails the whole batch (retryable).
 */
export type PushFunction<R = unknown> = (
  ctx: SyncContext,
  changes: readonly LocalChange<R>[],
) => Promise<readonly PushOutcome<R>[]>;
