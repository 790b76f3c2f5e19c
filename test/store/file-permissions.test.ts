import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('SQLite files hold payloads and sealed secrets', () => {
  it('creates the directory 0700 and the database, WAL and SHM files 0600', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'patchbay-perm-')), 'data');
    const path = join(dir, 'patchbay.db');
    const database = await openDatabase(`sqlite:${path}`);
    try {
      await database.transaction(async (tx) => {
        await sql`create table t (x integer)`.execute(tx.db);
      });
      expect(mode(dir)).toBe(0o700);
      for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file), file).toBe(0o600);
    } finally {
      await database.close();
    }
  });

  it('tightens an existing 0644 database to 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-perm-'));
    const path = join(dir, 'old.db');
    writeFileSync(path, '');
    chmodSync(path, 0o644);
    const database = await openDatabase(`sqlite:${path}`);
    await database.close();
    expect(mode(path)).toBe(0o600);
  });
});
