import type { DeclarativeRequestInput } from '../../core/config/syncs.js';

export interface RecordsSyncRequestOptions {
  /**
   * Read incrementally: `?modified_since=` from the newest `updated_at` seen, minus `lookback` (a duration
   * such as `'1s'`) when one is given. Defaults to a full read each run.
   */
  incremental?: boolean | { lookback: string };
  /** Ask for deleted records too (`include_deleted=true`) and read `deleted: true` as a tombstone. */
  tombstones?: boolean;
  /** More query parameters, as they are (`limit` is the page size). */
  query?: Record<string, string | number | boolean>;
}

/**
 * A declarative sync's `request` that reads the records fake's `GET /records` in its default cursor
 * pagination: records under `data`, keyed by `id`, `next_cursor` in the body sent back as `?cursor=`.
 */
export function recordsSyncRequest(options: RecordsSyncRequestOptions = {}): DeclarativeRequestInput {
  const { incremental, tombstones = false } = options;
  const query = { ...(tombstones && { include_deleted: true }), ...options.query };
  return {
    path: '/records',
    records: 'data',
    id: 'id',
    pagination: { style: 'cursor', cursorPath: 'next_cursor', cursorParam: 'cursor' },
    ...(incremental && {
      incremental: {
        param: 'modified_since',
        field: 'updated_at',
        ...(typeof incremental === 'object' && { lookback: incremental.lookback }),
      },
    }),
    ...(Object.keys(query).length > 0 && { query }),
    ...(tombstones && { deleted: { field: 'deleted' } }),
  };
}
