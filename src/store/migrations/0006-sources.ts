import type { Migration } from './types.js';

/**
 * Webhook sources created through the admin API (sources in the configuration file are not stored).
 * `definition` is the source without its secrets; `secrets` is vault ciphertext.
 */
export const sources: Migration = {
  name: '0006-sources',
  async up(db) {
    await db.schema
      .createTable('sources')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('secrets', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
