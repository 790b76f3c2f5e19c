/**
 * What a sync's `fetch` yields: one page of records at a time, streamed, never the whole data set.
 * A page's records, its checkpoint, its tombstones and the change events they make are committed in one
 * transaction, so a crash either keeps the whole page or none of it.
 */

/** A JSON value: what checkpoints and stored records are made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Where a fetch resumes: anything JSON the model chooses (a cursor, a `since` watermark, a delta link). */
export type Checkpoint = JsonValue;

/**
 * `incremental`: what changed since the checkpoint (tombstones report deletes). `full`: everything the
 * source has; a full read that completes deletes the records it did not see (mark and sweep).
 */
export type SyncMode = 'incremental' | 'full';

export interface SyncPage<Raw = unknown> {
  /** The records as the provider returned them; `transform` maps them and `schema` validates them. */
  readonly records: readonly Raw[];
  /**
   * Where to resume after this page, committed with the page's records. Omitted: the previous one stays.
   * A page that ends in the middle of records sharing one cursor value (same `updatedAt`) should
   * checkpoint at that value, not past it: the next read re-reads the boundary, and records already
   * stored are recognised by key and hash (airbytehq/airbyte#15427).
   */
  readonly checkpoint?: Checkpoint;
  /** External ids the source reports deleted (tombstones: a `deleted since` list, an `archived` flag). */
  readonly deleted?: readonly string[];
  /**
   * In a full read, `false` says the source could not list everything (a capped search): the pass then
   * deletes nothing. Defaults to true — a full read whose generator returns normally is complete.
   */
  readonly complete?: boolean;
}
