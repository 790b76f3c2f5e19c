import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';

export interface TestDatabase {
  /** The URL of this test's own database (a fresh SQLite file or a fresh PostgreSQL database). */
  url: string;
  open(): Promise<Database>;
  drop(): Promise<void>;
}

export interface DialectUnderTest {
  name: 'sqlite' | 'postgres';
  /** Makes a new, empty database for one suite or test. */
  create(): Promise<TestDatabase>;
}

const POSTGRES_URL = process.env.PATCHBAY_TEST_POSTGRES_URL;

const sqlite: DialectUnderTest = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-test-'));
    const url = `sqlite:${join(dir, 'patchbay.db')}`;
    return {
      url,
      open: () => openDatabase(url),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

const postgres: DialectUnderTest = {
  name: 'postgres',
  async create() {
    const name = `patchbay_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(POSTGRES_URL!);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      open: () => openDatabase(url.toString()),
      async drop() {
        const c = new pg.Client({ connectionString: POSTGRES_URL });
        await c.connect();
        await c.query(`drop database if exists ${name} with (force)`);
        await c.end();
      },
    };
  },
};

if (!POSTGRES_URL && !process.env.PATCHBAY_SKIP_NOTICE_SHOWN) {
  process.env.PATCHBAY_SKIP_NOTICE_SHOWN = '1';
  console.warn('skipped: PostgreSQL suites (PATCHBAY_TEST_POSTGRES_URL not set)');
}

/** The dialects every store conformance suite runs against: SQLite always, PostgreSQL when configured. */
export const dialects: DialectUnderTest[] = POSTGRES_URL ? [sqlite, postgres] : [sqlite];

/** All dialects, each with a flag saying whether it can run here (for `describe.skipIf`). */
export const allDialects: { dialect: DialectUnderTest; available: boolean }[] = [
  { dialect: sqlite, available: true },
  { dialect: postgres, available: POSTGRES_URL !== undefined },
];

/** Opens a migrated database of the given dialect; the returned `cleanup` closes and drops it. */
export async function migratedDatabase(
  dialect: DialectUnderTest,
): Promise<{ database: Database; testDb: TestDatabase; cleanup: () => Promise<void> }> {
  const testDb = await dialect.create();
  const database = await testDb.open();
  await migrateToLatest(database);
  return {
    database,
    testDb,
    async cleanup() {
      await database.close();
      await testDb.drop();
    },
  };
}
