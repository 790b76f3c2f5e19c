import type { Migration } from './types.js';

export const syncs: Migration = {
  name: '0008-syncs',
  async up(db) {
    // One row per sync: its committed progress, its lease (the fencing token), what is asked of it.
    await db.schema
      .createTable('sync_state')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('checkpoint', 'text')
      .addColumn('full_pending', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('full_checkpoint', 'text')
      .addColumn('full_started_at', 'bigint')
      .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('sweep_generation', 'integer')
      .addColumn('held_generation', 'integer')
      .addColumn('held_count', 'integer')
      .addColumn('held_live', 'integer')
      .addColumn('held_at', 'bigint')
      .addColumn('high_water', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_owner', 'text')
      .addColumn('lease_token', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_until', 'bigint')
      .addColumn('requested_at', 'bigint')
      .addColumn('requested_mode', 'text')
      .addColumn('requested_trigger', 'text')
      .addColumn('next_run_at', 'bigint')
      .addColumn('last_run_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sync_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('sync_id', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('lease_token', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('pages', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('seen', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('quarantined', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('pushed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('push_failed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('conflicts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deletes_held', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error_code', 'text')
      .addColumn('error', 'text')
      .addColumn('report', 'text')
      .execute();
    await db.schema.createIndex('sync_runs_sync').on('sync_runs').columns(['sync_id', 'id']).execute();

    // The records: one row per (sync, external id); `updated_at` moves only when the hash does.
    await db.schema
      .createTable('sync_records')
      .addColumn('sync_id', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('modified_at', 'bigint')
      .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .addColumn('seen_generation', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('sync_records_pk', ['sync_id', 'external_id'])
      .execute();
    // Keyset reads of changes (`modifiedAfter`): updated_at then id.
    await db.schema
      .createIndex('sync_records_changes')
      .on('sync_records')
      .columns(['sync_id', 'updated_at', 'external_id'])
      .execute();

    // Local changes waiting to be pushed (and, for a while, those pushed or dropped).
    await db.schema
      .createTable('sync_changes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('sync_id', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('data', 'text')
      .addColumn('base_data', 'text')
      .addColumn('base_hash', 'text')
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('written_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('sync_changes_key')
      .on('sync_changes')
      .columns(['sync_id', 'idempotency_key'])
      .unique()
      .execute();
    await db.schema
      .createIndex('sync_changes_status')
      .on('sync_changes')
      .columns(['sync_id', 'status', 'external_id'])
      .execute();

    await db.schema
      .createTable('sync_quarantine')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('sync_id', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text')
      .addColumn('run_id', 'text')
      .addColumn('error_path', 'text', (c) => c.notNull())
      .addColumn('error', 'text', (c) => c.notNull())
      .addColumn('raw', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('retries', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('sync_quarantine_status')
      .on('sync_quarantine')
      .columns(['sync_id', 'status', 'id'])
      .execute();
    await db.schema
      .createIndex('sync_quarantine_record')
      .on('sync_quarantine')
      .columns(['sync_id', 'external_id'])
      .execute();

    await db.schema
      .createTable('sync_conflicts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('sync_id', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('change_id', 'text', (c) => c.notNull())
      .addColumn('local_data', 'text')
      .addColumn('source_data', 'text')
      .addColumn('base_data', 'text')
      .addColumn('source_hash', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('resolution', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('sync_conflicts_status')
      .on('sync_conflicts')
      .columns(['sync_id', 'status', 'external_id'])
      .execute();

    // Scratch space of `verify`: the keys and hashes a full read of the source saw.
    await db.schema
      .createTable('sync_verify_keys')
      .addColumn('verify_id', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('sync_verify_keys_pk', ['verify_id', 'external_id'])
      .execute();
  },
};
