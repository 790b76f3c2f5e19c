import type { Migration } from './types.js';

/**
 * What the dashboard reads at volume (docs/dashboard.md has the figures, decision 0104 the why):
 * - lists filtered by source or destination read a stretch of ids of that source or destination only
 *   (search-window.ts). Without these SQLite answered `source = ?` through `events_dedupe` and sorted
 *   every match (a third of the table) to take the newest 51: seconds at a million events;
 * - the overview counts attempts per hour by outcome from (id, outcome) alone, not a row lookup each.
 * New ids are the largest: each write adds its entries at the right edge of these indexes.
 */
export const dashboardIndexes: Migration = {
  name: '0011-dashboard-indexes',
  async up(db) {
    await db.schema.createIndex('events_source_id').on('events').columns(['source', 'id']).execute();
    await db.schema
      .createIndex('deliveries_destination_id')
      .on('deliveries')
      .columns(['destination_id', 'id'])
      .execute();
    await db.schema
      .createIndex('delivery_attempts_time_outcome')
      .on('delivery_attempts')
      .columns(['id', 'outcome'])
      .execute();
  },
};
