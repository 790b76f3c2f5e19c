import type { Migration } from './types.js';

/**
 * Writes that a provider cannot deduplicate (SendGrid has no idempotency key): one row per
 * (connection, caller's key) saying whether the write is in flight, of unknown outcome, or done.
 */
export const sendLedger: Migration = {
  name: '0009-send-ledger',
  async up(db) {
    await db.schema
      .createTable('send_ledger')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('result', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('send_ledger_pk', ['scope', 'key'])
      .execute();
    await db.schema
      .createIndex('send_ledger_updated')
      .on('send_ledger')
      .columns(['state', 'updated_at'])
      .execute();
  },
};
