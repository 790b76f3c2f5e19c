import { type Kysely, type Migration as KyselyMigration, type MigrationProvider, Migrator } from 'kysely';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import type { Database } from './database.js';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

export const MIGRATION_TABLE = 'patchbay_migrations';
const MIGRATION_LOCK_TABLE = 'patchbay_migrations_lock';

function migrator(database: Database, migrations: readonly Migration[]): Migrator {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, KyselyMigration> = {};
      for (const m of migrations) {
        // biome-ignore lint/suspicious/noExplicitAny: see Migration
        out[m.name] = { up: (db: Kysely<any>) => m.up(db, database.dialect) };
      }
      return out;
    },
  };
  return new Migrator({
    db: database.db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

/** Applies every pending migration (PostgreSQL: under an advisory lock, so concurrent starts are safe). */
export async function migrateToLatest(
  database: Database,
  migrations: readonly Migration[] = allMigrations,
): Promise<string[]> {
  const { error, results } = await migrator(database, migrations).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new PatchbayError(
      ErrorCode.MIGRATION_FAILED,
      `migration ${failed ?? '(setup)'} failed on ${database.description}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function migrationStatus(
  database: Database,
  migrations: readonly Migration[] = allMigrations,
): Promise<MigrationStatus> {
  const infos = await migrator(database, migrations).getMigrations();
  return {
    applied: infos.filter((m) => m.executedAt !== undefined).map((m) => m.name),
    pending: infos.filter((m) => m.executedAt === undefined).map((m) => m.name),
  };
}
