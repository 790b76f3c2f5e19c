import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, type Kysely as KyselyType, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import type { Schema } from './schema.js';
import { BusyWaitingSqliteDialect, SqliteBusyWait } from './sqlite-busy.js';

export type DialectName = 'sqlite' | 'postgres';
export type Db = KyselyType<Schema>;

/**
 * A handle on a transaction. `db` runs queries inside it; `afterCommit` runs a callback once the
 * transaction has committed (used to wake workers only when their jobs are visible).
 */
export interface Tx {
  readonly db: Db;
  readonly dialect: DialectName;
  afterCommit(fn: () => void): void;
}

/**
 * Runs `fn` inside a savepoint of `tx`: if it throws, what it did is rolled back and the error rethrown, while
 * the transaction stays usable (on PostgreSQL a failed statement otherwise aborts the whole transaction).
 */
export async function inSavepoint<T>(tx: Tx, name: string, fn: () => Promise<T>): Promise<T> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`savepoint name must be lower-case letters and _: ${name}`);
  await sql.raw(`savepoint ${name}`).execute(tx.db);
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await sql.raw(`rollback to savepoint ${name}`).execute(tx.db);
    throw err;
  }
  await sql.raw(`release savepoint ${name}`).execute(tx.db);
  return result;
}

export interface DatabaseOptions {
  /** SQLite `synchronous` pragma. Defaults to FULL: a committed write survives power loss. */
  sqliteSynchronous?: 'FULL' | 'NORMAL' | 'OFF';
  /**
   * SQLite: how long a write waits for another process's write lock before failing with
   * `STORE_UNAVAILABLE` (a 503 with Retry-After), in ms. Defaults to 5 s, within a webhook sender's wait.
   */
  sqliteBusyTimeoutMs?: number;
  /** PostgreSQL pool size. Defaults to 10. */
  poolSize?: number;
  /** How long a connection attempt may take before start-up fails, in ms. Defaults to 5 s. */
  connectTimeoutMs?: number;
}

export interface TransactionOptions {
  /**
   * `false` lets the commit return before it reaches the disk (SQLite WAL `synchronous = NORMAL`,
   * PostgreSQL `synchronous_commit = off`). A process crash loses nothing; a power loss or OS crash may
   * lose the last such commits, never a later durable one (both logs are written in order), and never
   * leaves the store inconsistent. Only for writes that are safe to lose — a job's lease or completion,
   * which at worst runs the job again (at-least-once). Defaults to `true`.
   */
  durable?: boolean;
}

export interface Database {
  readonly dialect: DialectName;
  readonly db: Db;
  /** Where the data lives, with any password removed (for logs and `doctor`). */
  readonly description: string;
  /** Runs `fn` in one transaction (SQLite: `BEGIN IMMEDIATE`, so concurrent writers queue, not fail). */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** A `Tx` that is not a transaction: each statement commits on its own. */
  readonly autocommit: Tx;
  /** PostgreSQL: LISTEN on a channel on a dedicated connection. SQLite: an in-process channel. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * Whether the store can take writes now, answered fast (for /readyz): SQLite asks for its write lock
   * without queueing behind waiting statements; PostgreSQL answers ok (the readiness query tells).
   */
  writable(): Promise<{ ok: boolean; detail?: string }>;
  /** Sends a notification now (PostgreSQL NOTIFY; in-process for SQLite). */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export function parseDatabaseUrl(url: string): { dialect: DialectName; location: string } {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', location: url };
  if (url === ':memory:' || url === 'sqlite::memory:') return { dialect: 'sqlite', location: ':memory:' };
  const path = url.replace(/^sqlite:(\/\/)?/i, '').replace(/^file:(\/\/)?/i, '');
  if (path === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new PatchbayError(
      ErrorCode.CONFIG_INVALID,
      `database url "${redactDbUrl(url)}" is not supported; use postgres://… or a SQLite file path (sqlite:./data.db)`,
    );
  }
  return { dialect: 'sqlite', location: path };
}

export function redactDbUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  const { dialect, location } = parseDatabaseUrl(url);
  return dialect === 'sqlite' ? openSqlite(location, options) : openPostgres(location, options);
}

class Listeners {
  private readonly map = new Map<string, Set<(payload: string) => void>>();
  add(channel: string, fn: (payload: string) => void): () => void {
    const set = this.map.get(channel) ?? new Set();
    this.map.set(channel, set);
    set.add(fn);
    return () => set.delete(fn);
  }
  has(channel: string): boolean {
    return (this.map.get(channel)?.size ?? 0) > 0;
  }
  emit(channel: string, payload: string): void {
    for (const fn of this.map.get(channel) ?? []) fn(payload);
  }
}

function makeTx(db: Db, dialect: DialectName, callbacks: (() => void)[] | undefined): Tx {
  return {
    db,
    dialect,
    afterCommit(fn) {
      if (callbacks) callbacks.push(fn);
      else fn();
    },
  };
}

function runCallbacks(callbacks: (() => void)[]): void {
  for (const fn of callbacks) {
    try {
      fn();
    } catch {
      // A wake-up callback must never turn a committed transaction into a failure.
    }
  }
}

/**
 * Kysely's SQLite driver prepares every statement anew; preparing costs as much as running a small
 * statement. A cache of prepared statements by SQL text (LRU) removes that from every query.
 */
function withStatementCache(raw: SqliteDatabase.Database, size = 500) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => raw.close(),
    prepare(text: string): SqliteDatabase.Statement {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = raw.prepare(text);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * The database holds payloads and sealed secrets: its directory is made 0700 and the file 0600 before
 * SQLite opens it (SQLite gives the -wal and -shm files the database file's mode). They were 0644. An
 * existing file (and its -wal/-shm) is tightened to 0600 when this process owns it.
 */
function createPrivately(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch {
      // Absent, or someone else's file: SQLite opens it or says why.
    }
  }
}

function openSqlite(location: string, options: DatabaseOptions): Database {
  const path = location === ':memory:' ? location : resolve(location);
  const synchronous = options.sqliteSynchronous ?? 'FULL';
  const busyTimeoutMs = options.sqliteBusyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new PatchbayError(
      ErrorCode.CONFIG_INVALID,
      `sqliteBusyTimeoutMs must be a whole number of milliseconds ≥ 0, got ${String(busyTimeoutMs)}`,
    );
  }
  let raw: SqliteDatabase.Database;
  try {
    if (path !== ':memory:') createPrivately(path);
    raw = new SqliteDatabase(path);
    raw.pragma('journal_mode = WAL');
    raw.pragma(`synchronous = ${synchronous}`);
    // Never SQLite's own busy wait, which blocks the event loop: SqliteBusyWait waits asynchronously.
    raw.pragma('busy_timeout = 0');
    raw.pragma('foreign_keys = ON');
  } catch (err) {
    throw new PatchbayError(
      ErrorCode.STORE_UNAVAILABLE,
      `cannot open SQLite database ${path}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  const busy = new SqliteBusyWait(raw, path, busyTimeoutMs);
  const db = new Kysely<Schema>({
    dialect: new BusyWaitingSqliteDialect({ database: withStatementCache(raw) }, busy),
  });
  const listeners = new Listeners();
  return {
    dialect: 'sqlite',
    db,
    description: `sqlite:${path}`,
    autocommit: makeTx(db, 'sqlite', undefined),
    async transaction(fn, txOptions) {
      const callbacks: (() => void)[] = [];
      // `synchronous` is read at commit time and may change between transactions of a connection.
      const relax = txOptions?.durable === false && synchronous === 'FULL';
      const result = await db.connection().execute(async (conn) => {
        if (relax) raw.exec('PRAGMA synchronous = NORMAL');
        try {
          // IMMEDIATE takes the write lock up front: a deferred transaction that later upgrades can fail
          // with SQLITE_BUSY without waiting when another process writes. SqliteBusyWait retries BEGIN.
          await sql`begin immediate`.execute(conn);
          try {
            const value = await fn(makeTx(conn, 'sqlite', callbacks));
            await sql`commit`.execute(conn);
            return value;
          } catch (err) {
            if (raw.inTransaction) await sql`rollback`.execute(conn);
            throw err;
          }
        } finally {
          // Also when BEGIN failed (the lock never came): the connection's next transaction is durable.
          if (relax) raw.exec('PRAGMA synchronous = FULL');
        }
      });
      runCallbacks(callbacks);
      return result;
    },
    async listen(channel, onMessage) {
      const off = listeners.add(channel, onMessage);
      return async () => off();
    },
    writable: () => busy.probe(),
    async notify(channel, payload) {
      listeners.emit(channel, payload);
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  // Timestamps are BIGINT milliseconds: parse them as numbers (exact below 2^53, i.e. for 285k years).
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text'),
  };
  const connectionTimeoutMillis = options.connectTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis,
    types,
  });
  // An idle client losing its connection emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new PatchbayError(
      ErrorCode.STORE_UNAVAILABLE,
      `cannot connect to PostgreSQL at ${redactDbUrl(url)}: ${errorMessage(err) || (err as { code?: string }).code || 'connection failed'}`,
      { cause: err },
    );
  }
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  const listeners = new Listeners();
  let listenClient: pg.Client | undefined;
  const listening = new Set<string>();

  async function ensureListenClient(): Promise<pg.Client> {
    if (listenClient) return listenClient;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis, types });
    client.on('error', () => {});
    client.on('notification', (msg) => listeners.emit(msg.channel, msg.payload ?? ''));
    await client.connect();
    listenClient = client;
    return client;
  }

  return {
    dialect: 'postgres',
    db,
    description: redactDbUrl(url),
    autocommit: makeTx(db, 'postgres', undefined),
    async transaction(fn, txOptions) {
      const callbacks: (() => void)[] = [];
      const result = await db.transaction().execute(async (trx) => {
        if (txOptions?.durable === false) await sql`set local synchronous_commit = off`.execute(trx);
        return fn(makeTx(trx, 'postgres', callbacks));
      });
      runCallbacks(callbacks);
      return result;
    },
    async listen(channel, onMessage) {
      const client = await ensureListenClient();
      const off = listeners.add(channel, onMessage);
      if (!listening.has(channel)) {
        listening.add(channel);
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      return async () => off();
    },
    async notify(channel, payload) {
      await sql`select pg_notify(${channel}, ${payload})`.execute(db);
    },
    writable: async () => ({ ok: true }),
    async close() {
      if (listenClient) await listenClient.end().catch(() => {});
      await db.destroy();
    },
  };
}
