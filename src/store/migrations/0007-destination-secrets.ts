import type { Migration } from './types.js';

/** Destinations made through the admin API keep their secrets and headers as vault ciphertext here. */
export const destinationSecrets: Migration = {
  name: '0007-destination-secrets',
  async up(db) {
    await db.schema.alterTable('destinations').addColumn('secrets', 'text').execute();
  },
};
