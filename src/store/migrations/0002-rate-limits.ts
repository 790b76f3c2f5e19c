import type { Migration } from './types.js';

/**
 * Shared state of rate limiters and circuit breakers (used when Redis is not configured), so every
 * process of one installation counts into the same numbers.
 */
export const rateLimits: Migration = {
  name: '0002-rate-limits',
  async up(db) {
    // Sliding logs: `n` slots taken at instant `at` (ms) under one limiter key.
    await db.schema
      .createTable('rate_limit_slots')
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('n', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('rate_limit_slots_pk', ['key', 'at'])
      .execute();
    // One row per limiter key: the GCRA theoretical arrival time and any block. Its row lock (PostgreSQL)
    // serialises the read-modify-write of that key's slots and leases.
    await db.schema
      .createTable('rate_limit_state')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('tat', 'bigint')
      .addColumn('blocked_until', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('rate_limit_leases')
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('rate_limit_leases_pk', ['key', 'token'])
      .execute();
    await db.schema
      .createTable('circuit_breakers')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('snapshot', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
