import type { Migration } from './types.js';

/**
 * Operational observations a later `patchbay doctor` reads from another process: a handler or transform
 * that blocked the event loop (`loop_block`, value in ms), a connection answered 429 (`rate_limited`).
 * Rare by construction (only what crosses a threshold is written) and pruned after 7 days.
 */
export const opsSignals: Migration = {
  name: '0012-ops-signals',
  async up(db) {
    await db.schema
      .createTable('ops_signals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('value', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ops_signals_at').on('ops_signals').columns(['at']).execute();
  },
};
