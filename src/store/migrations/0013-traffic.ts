import type { Migration } from './types.js';

/**
 * What each process saw of a source's requests and a connection's calls, one row per subject, minute and
 * process (decision 0114): counts, a latency histogram, the last success and the last rate-limit headroom.
 * Each process upserts its own rows with its running totals every 10 s; rows older than 24 h are pruned.
 */
export const traffic: Migration = {
  name: '0013-traffic',
  async up(db) {
    await db.schema
      .createTable('traffic')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('minute', 'bigint', (c) => c.notNull())
      .addColumn('process', 'text', (c) => c.notNull())
      .addColumn('ok', 'integer', (c) => c.notNull())
      .addColumn('failed', 'integer', (c) => c.notNull())
      .addColumn('limited', 'integer', (c) => c.notNull())
      .addColumn('reasons', 'text', (c) => c.notNull())
      .addColumn('buckets', 'text', (c) => c.notNull())
      .addColumn('duration_max', 'integer', (c) => c.notNull())
      .addColumn('last_ok_at', 'bigint')
      .addColumn('headroom', 'real')
      .addColumn('headroom_at', 'bigint')
      .addPrimaryKeyConstraint('traffic_pk', ['kind', 'subject', 'minute', 'process'])
      .execute();
    await db.schema.createIndex('traffic_minute').on('traffic').columns(['minute']).execute();
  },
};
