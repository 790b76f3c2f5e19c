import type { Migration } from './types.js';

/**
 * The trace an event belongs to (W3C traceparent of the span that stored it), so its deliveries —
 * attempts days later included — join that trace. Null when tracing was off.
 */
export const eventTrace: Migration = {
  name: '0010-event-trace',
  async up(db) {
    await db.schema.alterTable('events').addColumn('trace_parent', 'text').execute();
  },
};
