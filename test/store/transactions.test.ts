import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, type Tx } from '../../src/store/database.js';
import { GroupCommitter } from '../../src/store/group-commit.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

/** What the store says about commit durability, inside `tx` or outside any transaction. */
async function commitSetting(database: Database, tx?: Tx): Promise<string> {
  const db = tx?.db ?? database.db;
  if (database.dialect === 'sqlite') {
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
    return ['OFF', 'NORMAL', 'FULL', 'EXTRA'][rows[0]!.synchronous]!;
  }
  const { rows } = await sql<{ s: string }>`select current_setting('synchronous_commit') as s`.execute(db);
  return rows[0]!.s;
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`transactions on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    const durable = dialect.name === 'sqlite' ? 'FULL' : 'on';
    const relaxed = dialect.name === 'sqlite' ? 'NORMAL' : 'off';

    beforeAll(async () => {
      ({ database, cleanup } = await migratedDatabase(dialect));
    });
    afterAll(async () => cleanup?.());

    it('are durable by default; `durable: false` relaxes that one transaction only', async () => {
      expect(await commitSetting(database)).toBe(durable);
      expect(await database.transaction((tx) => commitSetting(database, tx))).toBe(durable);
      const inside = await database.transaction((tx) => commitSetting(database, tx), { durable: false });
      expect(inside).toBe(relaxed);
      expect(await commitSetting(database)).toBe(durable);
      expect(await database.transaction((tx) => commitSetting(database, tx))).toBe(durable);
    });

    it('a relaxed transaction that fails rolls back and restores durability', async () => {
      const failing = database.transaction(
        async (tx) => {
          await tx.db
            .insertInto('jobs')
            .values({
              id: 'job_relaxed',
              queue: 'q',
              payload: '{}',
              state: 'ready',
              available_at: 0,
              attempts: 0,
              max_attempts: 1,
              lease_token: null,
              last_error: null,
              created_at: 0,
              updated_at: 0,
            })
            .execute();
          throw new Error('boom');
        },
        { durable: false },
      );
      await expect(failing).rejects.toThrow('boom');
      expect(
        await database.db.selectFrom('jobs').select('id').where('id', '=', 'job_relaxed').execute(),
      ).toEqual([]);
      expect(await commitSetting(database)).toBe(durable);
    });
  });
}

describe('group commit', () => {
  const dialect = allDialects[0]!.dialect;
  let database: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ database, cleanup } = await migratedDatabase(dialect));
  });
  afterAll(async () => cleanup?.());

  it('items submitted in one turn share one transaction', async () => {
    const batches: number[] = [];
    const committer = new GroupCommitter<number, number>(database, async (_tx, items) => {
      batches.push(items.length);
      return items.map((n) => n * 2);
    });
    const results = await Promise.all([1, 2, 3].map((n) => committer.submit(n)));
    expect(results).toEqual([2, 4, 6]);
    expect(batches).toEqual([3]);
  });

  it('stops lingering as soon as no more items are coming', async () => {
    let coming = 2;
    const batches: number[][] = [];
    // A linger far longer than the test's timeout: the batch must start because nothing else is coming.
    const committer = new GroupCommitter<number, number>(
      database,
      async (_tx, items) => {
        batches.push([...items]);
        return items;
      },
      { lingerMs: 60_000, moreComing: () => coming > 0 },
    );
    const first = committer.submit(1);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([]); // still lingering: one more item is on its way
    coming = 0;
    const second = committer.submit(2);
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(batches).toEqual([[1, 2]]);
  });
});

/**
 * A SQLite file with a table `t`, opened by Patchbay (whose first transaction is still to come) and by a
 * second connection, which is another process as far as SQLite's locks go.
 */
async function withTwoConnections(
  options: Parameters<typeof openDatabase>[1],
  test: (database: Database, other: SqliteDatabase.Database) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-busy-'));
  const file = join(dir, 'busy.db');
  const other = new SqliteDatabase(file);
  other.exec('create table t (n integer)');
  const database = await openDatabase(`sqlite:${file}`, options);
  try {
    await test(database, other);
  } finally {
    other.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a relaxed SQLite transaction', () => {
  it('relaxes the very first transaction of a connection, and every one after', async () => {
    // SQLite applies `PRAGMA synchronous = …` and `busy_timeout = …` while preparing the statement: a
    // prepared one run again did nothing the first time, so a new connection's first relaxed
    // transaction was durable, and its first contended BEGIN blocked the event loop.
    const database = await openDatabase('sqlite::memory:');
    try {
      for (let round = 0; round < 3; round++) {
        expect(await database.transaction((tx) => commitSetting(database, tx), { durable: false })).toBe(
          'NORMAL',
        );
        expect(await commitSetting(database)).toBe('FULL');
      }
    } finally {
      await database.close();
    }
  });
});

describe('a SQLite transaction while another process holds the write lock', () => {
  it('waits for the lock without blocking the event loop, then commits', async () => {
    await withTwoConnections({}, async (database, other) => {
      other.exec('begin immediate');
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      // With SQLite's own busy wait this timer could not fire: the transaction would block the event
      // loop for the whole busy timeout and then fail with SQLITE_BUSY.
      setTimeout(() => other.exec('commit'), 100);
      const started = Date.now();
      await database.transaction(async (tx) => {
        await sql`insert into t values (1)`.execute(tx.db);
      });
      clearInterval(ticker);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(other.prepare('select count(*) as n from t').get()).toEqual({ n: 1 });
    });
  });

  it('gives up after the busy timeout with STORE_UNAVAILABLE and a retry hint, without blocking the event loop meanwhile', async () => {
    await withTwoConnections({ sqliteBusyTimeoutMs: 200 }, async (database, other) => {
      other.exec('begin immediate');
      let ran = false;
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      // The first transaction of this connection, and a relaxed one.
      const relaxed = database.transaction(
        async () => {
          ran = true;
        },
        { durable: false },
      );
      await expect(relaxed).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        retryAfterMs: 1000,
        message: expect.stringMatching(/locked by another process/),
      });
      clearInterval(ticker);
      expect(ran).toBe(false);
      expect(ticks).toBeGreaterThanOrEqual(10);
      other.exec('commit');
      // The relaxed setting was for that transaction only, which never began.
      expect(await commitSetting(database)).toBe('FULL');
      await database.transaction(async (tx) => {
        await sql`insert into t values (1)`.execute(tx.db);
      });
      expect(other.prepare('select count(*) as n from t').get()).toEqual({ n: 1 });
    });
  });

  it('refuses a busy timeout that is not a whole number of milliseconds', async () => {
    await expect(openDatabase('sqlite::memory:', { sqliteBusyTimeoutMs: 1.5 })).rejects.toThrow(
      /sqliteBusyTimeoutMs.*1\.5/,
    );
    await expect(openDatabase('sqlite::memory:', { sqliteBusyTimeoutMs: -1 })).rejects.toThrow(
      /sqliteBusyTimeoutMs/,
    );
  });
});
