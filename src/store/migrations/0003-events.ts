import { binaryType, type Migration } from './types.js';

export const events: Migration = {
  name: '0003-events',
  async up(db, dialect) {
    await db.schema
      .createTable('events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('headers', 'text', (c) => c.notNull())
      .addColumn('body', binaryType(dialect), (c) => c.notNull())
      .addColumn('content_type', 'text')
      .addColumn('request_id', 'text')
      .addColumn('verification', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('occurred_at', 'bigint')
      .addColumn('duplicates', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_duplicate_at', 'bigint')
      .execute();
    // Dedupe: one event per (source, sender's id), enforced by the database across processes.
    await db.schema
      .createIndex('events_dedupe')
      .on('events')
      .columns(['source', 'external_id'])
      .unique()
      .execute();
    await db.schema.createIndex('events_received').on('events').columns(['received_at']).execute();
    await db.schema
      .createIndex('events_source_type')
      .on('events')
      .columns(['source', 'type', 'id'])
      .execute();
  },
};
