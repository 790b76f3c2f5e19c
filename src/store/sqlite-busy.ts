import type SqliteDatabase from 'better-sqlite3';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  SqliteDialect,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely';
import { ErrorCode, PatchbayError } from '../core/errors.js';

/** How long a client is told to wait before trying again when the store is locked. */
const RETRY_AFTER_MS = 1000;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code?.startsWith('SQLITE_BUSY_') === true;
}

/**
 * Waiting for SQLite's write lock without blocking the event loop, and without answering 500 when it
 * never comes. SQLite's own busy handler sleeps in the calling thread (better-sqlite3 is synchronous):
 * with another process holding `BEGIN EXCLUSIVE`, every statement stalled every timer and socket of
 * this process for the whole busy timeout, /readyz answered after 44 s and webhooks 500 after 40 s. So
 * the connection's `busy_timeout` is 0, and a statement outside a transaction (a `BEGIN IMMEDIATE`, an
 * autocommit write) that finds the lock taken is tried again after an asynchronous pause, for at most
 * `busyTimeoutMs`; then it fails with `STORE_UNAVAILABLE` and `retryAfterMs` (a 503 with Retry-After,
 * which webhook senders retry). A busy statement outside a transaction did nothing, so trying it again
 * is safe; inside one (we hold the write lock) it is not retried.
 */
export class SqliteBusyWait {
  constructor(
    private readonly raw: SqliteDatabase.Database,
    private readonly path: string,
    readonly busyTimeoutMs: number,
  ) {}

  /**
   * Since when every attempt of this process found the lock taken (cleared by any success). Statements
   * queue behind each other on SQLite's one connection: each waiting its own full timeout, a request
   * behind the workers' polls waited several. The wait is bounded from the start of the contention.
   */
  private lockedSince: number | undefined;

  async run<T>(statement: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let pause = 1; ; pause = Math.min(pause * 2, 8)) {
      try {
        const result = await statement();
        this.lockedSince = undefined;
        return result;
      } catch (err) {
        if (!isBusy(err)) throw err;
        const now = Date.now();
        this.lockedSince ??= now;
        const since = Math.min(started, this.lockedSince);
        if (this.raw.inTransaction || now - since >= this.busyTimeoutMs)
          throw this.unavailable(err, now - since);
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /**
   * Whether this process could take the write lock now, asked without a statement queue in between:
   * `BEGIN IMMEDIATE` and `ROLLBACK` run synchronously (nothing else of this process interleaves), tried
   * for up to `maxWaitMs` so that another Patchbay process's short transaction is not taken for a lock.
   */
  async probe(maxWaitMs = 250): Promise<{ ok: boolean; detail?: string }> {
    const started = Date.now();
    for (;;) {
      // Inside a transaction this connection holds the lock (every transaction is IMMEDIATE).
      if (this.raw.inTransaction) return { ok: true };
      try {
        this.raw.exec('BEGIN IMMEDIATE');
        this.raw.exec('ROLLBACK');
        this.lockedSince = undefined;
        return { ok: true };
      } catch (err) {
        if (!isBusy(err)) return { ok: false, detail: `store unreachable: ${(err as Error).message}` };
        if (Date.now() - started >= maxWaitMs) {
          return {
            ok: false,
            detail: `the SQLite database ${this.path} is locked by another process (its write lock was not free for ${maxWaitMs} ms)`,
          };
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private unavailable(cause: unknown, waited: number): PatchbayError {
    return new PatchbayError(
      ErrorCode.STORE_UNAVAILABLE,
      `the SQLite database ${this.path} is locked by another process: its write lock has not been free for ${waited} ms (database.busyTimeout); try again shortly`,
      { cause, retryAfterMs: RETRY_AFTER_MS },
    );
  }
}

/** Kysely's SQLite dialect with every statement run through `SqliteBusyWait`. */
export class BusyWaitingSqliteDialect extends SqliteDialect {
  constructor(
    config: SqliteDialectConfig,
    private readonly wait: SqliteBusyWait,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new BusyWaitingDriver(super.createDriver(), this.wait);
  }
}

class BusyWaitingDriver implements Driver {
  private wrapped: DatabaseConnection | undefined;

  constructor(
    private readonly inner: Driver,
    private readonly wait: SqliteBusyWait,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    // SQLite has one connection: wrap it once.
    if (!this.wrapped) {
      const wait = this.wait;
      this.wrapped = {
        executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> =>
          wait.run(() => connection.executeQuery<R>(query)),
        streamQuery: <R>(query: CompiledQuery, chunkSize?: number) =>
          connection.streamQuery<R>(query, chunkSize),
      };
    }
    return this.wrapped;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
