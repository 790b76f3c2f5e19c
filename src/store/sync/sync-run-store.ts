import type { Database, Tx } from '../database.js';
import type { SyncRunsTable } from '../schema.js';

export type RunMode = SyncRunsTable['mode'];
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'interrupted';

/** What a run did so far; a page's commit adds its share in the page's transaction. */
export interface RunCounts {
  pages: number;
  seen: number;
  created: number;
  updated: number;
  deleted: number;
  quarantined: number;
  pushed: number;
  pushFailed: number;
  conflicts: number;
  deletesHeld: number;
}

export interface SyncRun extends RunCounts {
  id: string;
  syncId: string;
  mode: RunMode;
  trigger: string;
  status: RunStatus;
  leaseToken: number;
  startedAt: number;
  finishedAt: number | null;
  errorCode: string | null;
  error: string | null;
  report: unknown;
}

export const NO_COUNTS: RunCounts = {
  pages: 0,
  seen: 0,
  created: 0,
  updated: 0,
  deleted: 0,
  quarantined: 0,
  pushed: 0,
  pushFailed: 0,
  conflicts: 0,
  deletesHeld: 0,
};

/** The runs of every sync: one row per run, its counters moved forward with each page it commits. */
export class SyncRunStore {
  constructor(private readonly database: Database) {}

  async start(
    tx: Tx,
    run: {
      id: string;
      syncId: string;
      mode: RunMode;
      trigger: string;
      leaseToken: number;
      startedAt: number;
    },
  ): Promise<void> {
    await tx.db
      .insertInto('sync_runs')
      .values({
        id: run.id,
        sync_id: run.syncId,
        mode: run.mode,
        trigger: run.trigger,
        status: 'running',
        lease_token: run.leaseToken,
        started_at: run.startedAt,
        finished_at: null,
        ...toColumns(NO_COUNTS),
        error_code: null,
        error: null,
        report: null,
      })
      .execute();
  }

  /**
   * Runs of `syncId` still marked running under an older lease: their runner died or lost its lease
   * (a killed job must not stay RUNNING, meltano#2180). Marked interrupted by the next lease holder.
   */
  async interruptStale(tx: Tx, syncId: string, currentToken: number, now: number): Promise<number> {
    const result = await tx.db
      .updateTable('sync_runs')
      .set({
        status: 'interrupted',
        finished_at: now,
        error_code: 'LEASE_LOST',
        error: 'the runner stopped (its process exited or it lost its lease) before the run finished',
      })
      .where('sync_id', '=', syncId)
      .where('status', '=', 'running')
      .where('lease_token', '<', currentToken)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Adds a page's counts to the run (inside the page's transaction). */
  async add(tx: Tx, runId: string, counts: Partial<RunCounts>): Promise<void> {
    const columns = Object.entries(toColumns({ ...NO_COUNTS, ...counts })).filter(([, n]) => n !== 0);
    if (columns.length === 0) return;
    await tx.db
      .updateTable('sync_runs')
      .set((eb) => Object.fromEntries(columns.map(([column, n]) => [column, eb(column as 'pages', '+', n)])))
      .where('id', '=', runId)
      .execute();
  }

  async finish(
    runId: string,
    outcome: { status: RunStatus; now: number; errorCode?: string; error?: string; report?: unknown },
    tx?: Tx,
  ): Promise<void> {
    await (tx?.db ?? this.database.db)
      .updateTable('sync_runs')
      .set({
        status: outcome.status,
        finished_at: outcome.now,
        error_code: outcome.errorCode ?? null,
        error: outcome.error ?? null,
        report: outcome.report === undefined ? null : JSON.stringify(outcome.report),
      })
      .where('id', '=', runId)
      .where('status', '=', 'running')
      .execute();
  }

  /** Replaces a running run's report: what it is doing now (a wait and why), readable before it ends. */
  async note(runId: string, report: unknown): Promise<void> {
    await this.database.db
      .updateTable('sync_runs')
      .set({ report: report === undefined ? null : JSON.stringify(report) })
      .where('id', '=', runId)
      .where('status', '=', 'running')
      .execute();
  }

  async get(runId: string): Promise<SyncRun | undefined> {
    const row = await this.database.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('id', '=', runId)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /** Runs of a sync, newest first; `limit + 1` rows so the caller can tell if more exist. */
  async list(syncId: string, options: { before?: string; limit: number }): Promise<SyncRun[]> {
    let q = this.database.db.selectFrom('sync_runs').selectAll().where('sync_id', '=', syncId);
    if (options.before !== undefined) q = q.where('id', '<', options.before);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(options.limit + 1)
      .execute();
    return rows.map(fromRow);
  }

  /** The latest finished runs of a sync (for the health score: failures in a row). */
  async recent(syncId: string, limit: number): Promise<SyncRun[]> {
    return this.list(syncId, { limit: limit - 1 });
  }
}

function toColumns(c: RunCounts) {
  return {
    pages: c.pages,
    seen: c.seen,
    created: c.created,
    updated: c.updated,
    deleted: c.deleted,
    quarantined: c.quarantined,
    pushed: c.pushed,
    push_failed: c.pushFailed,
    conflicts: c.conflicts,
    deletes_held: c.deletesHeld,
  };
}

function fromRow(r: SyncRunsTable): SyncRun {
  return {
    id: r.id,
    syncId: r.sync_id,
    mode: r.mode,
    trigger: r.trigger,
    status: r.status as RunStatus,
    leaseToken: Number(r.lease_token),
    startedAt: Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    pages: Number(r.pages),
    seen: Number(r.seen),
    created: Number(r.created),
    updated: Number(r.updated),
    deleted: Number(r.deleted),
    quarantined: Number(r.quarantined),
    pushed: Number(r.pushed),
    pushFailed: Number(r.push_failed),
    conflicts: Number(r.conflicts),
    deletesHeld: Number(r.deletes_held),
    errorCode: r.error_code,
    error: r.error,
    report: r.report === null ? undefined : JSON.parse(r.report),
  };
}
