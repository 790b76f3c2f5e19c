import type { Migration } from './types.js';

/**
 * Connections and the vault's own tables. Every secret column holds ciphertext made by the vault
 * (`pb1.<key id>.…`); the store never sees plaintext.
 */
export const connections: Migration = {
  name: '0005-connections',
  async up(db) {
    await db.schema
      .createTable('connections')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('base_url', 'text')
      .addColumn('auth_scheme', 'text', (c) => c.notNull())
      .addColumn('auth_config', 'text', (c) => c.notNull())
      .addColumn('secrets', 'text')
      .addColumn('credentials', 'text')
      .addColumn('expires_at', 'bigint')
      .addColumn('credential_version', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('refresh_lock', 'text')
      .addColumn('refresh_lock_until', 'bigint')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_reason', 'text')
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('refreshed_at', 'bigint')
      .execute();
    // Pending authorization-code flows, keyed by a hash of `state`; single use, short-lived.
    await db.schema
      .createTable('oauth_states')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('secrets', 'text', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('return_to', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('oauth_states_expiry').on('oauth_states').columns(['expires_at']).execute();
    // The keys that encrypted this database: id, a key-check value, and which one encrypts new data.
    await db.schema
      .createTable('encryption_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('check_value', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
