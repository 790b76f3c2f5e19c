import { resolve } from 'node:path';
import type { PatchbayConfig } from '../core/config/schema.js';

/** The store the configuration names: `database.url`, else `patchbay.db` in the data directory. */
export function databaseUrl(config: PatchbayConfig): string {
  return config.database.url ?? `sqlite:${resolve(config.dataDir, 'patchbay.db')}`;
}
