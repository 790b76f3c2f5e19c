import { randomUUID } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import { type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, isPatchbayError, PatchbayError, truncateBody } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Database, Tx } from './database.js';
import type { JobsTable } from './schema.js';
import { statementText } from './statement-text.js';

/**
 * A durable job queue on the store, with leases (visibility timeouts).
 *
 * A claimed job stays in its row with `available_at` pushed to the end of its lease and a fresh
 * `lease_token`. If the worker dies, the lease simply runs out and the job is claimable again: there is
 * no reaper to run and nothing to lose. Completing deletes the row; failing schedules a retry or moves
 * the job to the dead letters. Every completion and failure names the lease token, so a worker whose
 * lease ran out cannot complete a job another worker has since claimed.
 */

export interface NewJob<P = unknown> {
  queue: string;
  payload: P;
  /** When it may run; defaults to now. */
  runAt?: number;
  /** Attempts before the job is dead-lettered. Defaults to the queue's default (25). */
  maxAttempts?: number;
  /** Id of the job; generated when absent. Enqueueing an id that exists is a no-op. */
  id?: string;
}

export interface EnqueueOptions {
  /**
   * A job whose id is held by a dead job (it crashed its worker `maxAttempts` times) takes its place,
   * instead of the enqueue being a no-op: a replay must not be blocked by the job that gave up.
   */
  replaceDead?: boolean;
}

export interface Job<P = unknown> {
  id: string;
  queue: string;
  payload: P;
  /** Attempts so far, this one included. */
  attempts: number;
  maxAttempts: number;
  leaseToken: string;
  /** When the current lease ends. */
  leaseUntil: number;
  lastError: string | null;
  createdAt: number;
}

export interface DeadJob<P = unknown> {
  id: string;
  queue: string;
  payload: P;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface QueueStats {
  queue: string;
  /** Waiting to run (due now or later). */
  ready: number;
  /** Held by a live lease. */
  claimed: number;
  dead: number;
}

export interface ClaimOptions {
  /** At most this many jobs. Defaults to 1. */
  limit?: number;
  /** Lease length in ms. Defaults to 30 s. */
  leaseMs?: number;
}

export interface FailOptions {
  error: string;
  /** When to try again; defaults to now. Ignored when the job has no attempts left. */
  runAt?: number;
  /** Dead-letter now whatever the attempts left (a permanent failure). */
  dead?: boolean;
  /** The job did no work (it was deferred): give back the attempt its claim counted. */
  uncounted?: boolean;
}

/** A job's failure, as the worker hands it over to be recorded with others. */
export interface JobFailure {
  job: Job;
  options: FailOptions;
}

/** What recording this failure will do: run the job again, or dead-letter it. */
export function failureOutcome(job: Job, options: FailOptions): 'retry' | 'dead' {
  const uncounted = options.uncounted === true && options.dead !== true;
  return options.dead === true || (!uncounted && job.attempts >= job.maxAttempts) ? 'dead' : 'retry';
}

export const DEFAULT_MAX_ATTEMPTS = 25;
export const DEFAULT_LEASE_MS = 30_000;
/** NOTIFY channel (PostgreSQL) / in-process channel (SQLite) that says "a queue has new work". */
export const QUEUE_CHANNEL = 'patchbay_jobs';

export class JobQueue {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Adds jobs inside the caller's transaction (`tx`), so they exist exactly when the caller's own writes
   * do (outbox). Workers are woken after the commit.
   */
  async enqueue(tx: Tx, jobs: readonly NewJob[], options: EnqueueOptions = {}): Promise<string[]> {
    if (jobs.length === 0) return [];
    if (options.replaceDead) {
      const ids = jobs.flatMap((j) => (j.id === undefined ? [] : [j.id]));
      for (let i = 0; i < ids.length; i += 500) {
        await tx.db
          .deleteFrom('jobs')
          .where('id', 'in', ids.slice(i, i + 500))
          .where('state', '=', 'dead')
          .execute();
      }
    }
    const now = this.clock.now();
    const rows: JobsTable[] = jobs.map((job) => {
      if (!job.queue) throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'job.queue is required');
      const maxAttempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
        throw new PatchbayError(
          ErrorCode.INVALID_ARGUMENT,
          `job.maxAttempts must be an integer ≥ 1, got ${maxAttempts}`,
        );
      }
      return {
        id: job.id ?? newId('job', now),
        queue: job.queue,
        payload: JSON.stringify(job.payload ?? null),
        state: 'ready',
        available_at: job.runAt ?? now,
        attempts: 0,
        max_attempts: maxAttempts,
        lease_token: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      };
    });
    // Chunked to stay under SQLite's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 500) {
      await tx.db
        .insertInto('jobs')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
    const queues = [...new Set(rows.map((r) => r.queue))];
    if (tx.dialect === 'postgres') {
      // Delivered by PostgreSQL at commit, to every process.
      for (const queue of queues) await sql`select pg_notify(${QUEUE_CHANNEL}, ${queue})`.execute(tx.db);
    } else {
      tx.afterCommit(() => {
        for (const queue of queues) void this.database.notify(QUEUE_CHANNEL, queue);
      });
    }
    return rows.map((r) => r.id);
  }

  /** Enqueues in a transaction of its own. */
  async add(jobs: readonly NewJob[]): Promise<string[]> {
    return this.database.transaction((tx) => this.enqueue(tx, jobs));
  }

  /**
   * Claims up to `limit` due jobs of `queue` under one lease. PostgreSQL skips rows other workers are
   * claiming (`FOR UPDATE SKIP LOCKED`); SQLite serialises writers, so the same statement is exact there.
   * A job whose lease already ran out `maxAttempts` times (it keeps killing its worker) is dead-lettered
   * instead of being handed out again.
   */
  async claim<P = unknown>(
    queue: string,
    options: ClaimOptions = {},
    tx: Tx = this.database.autocommit,
  ): Promise<Job<P>[]> {
    const limit = options.limit ?? 1;
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    const now = this.clock.now();
    const token = randomUUID();
    const leaseUntil = now + leaseMs;
    const lock = this.database.dialect === 'postgres' ? sql`for update skip locked` : sql``;
    const result = await sql<JobsTable>`
      update jobs set lease_token = ${token}, available_at = ${leaseUntil}, attempts = attempts + 1, updated_at = ${now}
      where id in (
        select id from jobs
        where queue = ${queue} and state = 'ready' and available_at <= ${now}
        order by available_at, id
        limit ${limit}
        ${lock}
      )
      returning *`.execute(tx.db);
    const jobs: Job<P>[] = [];
    const exhausted: string[] = [];
    for (const row of result.rows) {
      if (row.attempts > row.max_attempts) exhausted.push(row.id);
      else jobs.push(toJob<P>(row, leaseUntil));
    }
    if (exhausted.length > 0) {
      await tx.db
        .updateTable('jobs')
        .set({
          state: 'dead',
          lease_token: null,
          last_error: 'lease expired on every attempt (the worker died or stalled each time)',
          updated_at: now,
        })
        .where('id', 'in', exhausted)
        .where('lease_token', '=', token)
        .execute();
    }
    // Rows come back in no particular order from UPDATE … RETURNING: hand them out in due order.
    return jobs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Records finished jobs and claims the next ones in one transaction: a busy worker pays one commit per
   * round instead of two. The commit need not reach the disk before the jobs start (it is not durable,
   * see `TransactionOptions`): a lease or a completion lost to a power cut only runs a job again, which
   * at-least-once allows, and saves an fsync per round.
   */
  async completeAndClaim<P = unknown>(
    finished: readonly Job[],
    queue: string,
    options: ClaimOptions = {},
    failed: readonly JobFailure[] = [],
  ): Promise<Job<P>[]> {
    return this.database.transaction(
      async (tx) => {
        await this.record(finished, failed, tx);
        return this.claim<P>(queue, options, tx);
      },
      { durable: false },
    );
  }

  /**
   * Records finished and failed jobs together, in one transaction that is not durable (see
   * `completeAndClaim`: a failure lost to a power cut runs the job again after its lease).
   */
  async settle(finished: readonly Job[], failed: readonly JobFailure[]): Promise<void> {
    await this.database.transaction((tx) => this.record(finished, failed, tx), { durable: false });
  }

  /**
   * Deletes finished jobs and `fail`s failed ones in `tx`; a failed job whose lease was lost meanwhile
   * is left to its new holder.
   */
  private async record(finished: readonly Job[], failed: readonly JobFailure[], tx: Tx): Promise<void> {
    if (finished.length > 0) await this.complete(finished, tx);
    for (const { job, options } of failed) {
      try {
        await this.fail(job, options, tx);
      } catch (err) {
        if (!isPatchbayError(err, ErrorCode.LEASE_LOST)) throw err;
      }
    }
  }

  /** Extends the lease of jobs still held; returns the ids whose lease was lost. */
  async extend(jobs: readonly Job[], leaseMs = DEFAULT_LEASE_MS): Promise<string[]> {
    const lost: string[] = [];
    const leaseUntil = this.clock.now() + leaseMs;
    for (const [token, group] of groupByToken(jobs)) {
      const ids = group.map((j) => j.id);
      const updated = await this.database.db
        .updateTable('jobs')
        .set({ available_at: leaseUntil })
        .where('id', 'in', ids)
        .where('lease_token', '=', token)
        .returning('id')
        .execute();
      const kept = new Set(updated.map((r) => r.id));
      for (const job of group) {
        if (kept.has(job.id)) job.leaseUntil = leaseUntil;
        else lost.push(job.id);
      }
    }
    return lost;
  }

  /**
   * Removes finished jobs. Returns how many were still held by this lease (others were lost). Without a
   * `tx`, in a transaction of its own that is not durable (see `completeAndClaim`).
   */
  async complete(jobs: readonly Job[], tx?: Tx): Promise<number> {
    if (!tx) return this.database.transaction((own) => this.complete(jobs, own), { durable: false });
    let done = 0;
    for (const [token, group] of groupByToken(jobs)) {
      for (let i = 0; i < group.length; i += 500) {
        const ids = group.slice(i, i + 500).map((j) => j.id);
        // Every finished job passes here: the statement's text is built once per batch size.
        const text = statementText('complete-jobs', tx.dialect, ids.length, (mark) => {
          const marks = ids.map((_, n) => mark(n + 2)).join(', ');
          return `delete from jobs where lease_token = ${mark(1)} and id in (${marks})`;
        });
        const result = await tx.db.executeQuery(CompiledQuery.raw(text, [token, ...ids]));
        done += Number(result.numAffectedRows ?? 0);
      }
    }
    return done;
  }

  /**
   * Records a failed attempt: the job runs again at `runAt`, or is dead-lettered when it has used its
   * attempts (or `dead` is set). Throws `LEASE_LOST` if the lease was lost meanwhile.
   */
  async fail(job: Job, options: FailOptions, tx: Tx = this.database.autocommit): Promise<'retry' | 'dead'> {
    const now = this.clock.now();
    const uncounted = options.uncounted === true && options.dead !== true;
    const dead = failureOutcome(job, options) === 'dead';
    const result = await tx.db
      .updateTable('jobs')
      .set({
        ...(uncounted && { attempts: sql`attempts - 1` }),
        state: dead ? 'dead' : 'ready',
        available_at: dead ? now : Math.max(options.runAt ?? now, now),
        lease_token: null,
        last_error: truncateBody(options.error, 4000),
        updated_at: now,
      })
      .where('id', '=', job.id)
      .where('lease_token', '=', job.leaseToken)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      throw new PatchbayError(ErrorCode.LEASE_LOST, `job ${job.id} is no longer held by this worker`);
    }
    return dead ? 'dead' : 'retry';
  }

  /** Gives jobs back untouched (graceful shutdown): claimable at once, the attempt not counted. */
  async release(jobs: readonly Job[]): Promise<void> {
    const now = this.clock.now();
    for (const [token, group] of groupByToken(jobs)) {
      await this.database.db
        .updateTable('jobs')
        .set({ available_at: now, lease_token: null, attempts: sql`attempts - 1`, updated_at: now })
        .where(
          'id',
          'in',
          group.map((j) => j.id),
        )
        .where('lease_token', '=', token)
        .execute();
    }
  }

  /**
   * Moves the waiting jobs of `queue` among `ids` to `until` at the earliest (a breaker opened: their
   * backlog waits for the probe instead of being claimed and put off one by one). Jobs held by a worker
   * keep their lease. Returns how many moved.
   */
  async postpone(queue: string, ids: readonly string[], until: number): Promise<number> {
    const now = this.clock.now();
    let moved = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const result = await this.database.db
        .updateTable('jobs')
        .set({ available_at: until, updated_at: now })
        .where('queue', '=', queue)
        .where('state', '=', 'ready')
        .where('lease_token', 'is', null)
        .where('available_at', '<', until)
        .where('id', 'in', ids.slice(i, i + 500))
        .executeTakeFirst();
      moved += Number(result.numUpdatedRows);
    }
    return moved;
  }

  /** Puts dead jobs back in line with a fresh set of attempts. Returns how many were requeued. */
  async requeueDead(queue: string, ids?: readonly string[]): Promise<number> {
    const now = this.clock.now();
    let query = this.database.db
      .updateTable('jobs')
      .set({ state: 'ready', attempts: 0, available_at: now, lease_token: null, updated_at: now })
      .where('queue', '=', queue)
      .where('state', '=', 'dead');
    if (ids) {
      if (ids.length === 0) return 0;
      query = query.where('id', 'in', [...ids]);
    }
    const result = await query.executeTakeFirst();
    const count = Number(result.numUpdatedRows);
    if (count > 0) await this.database.notify(QUEUE_CHANNEL, queue);
    return count;
  }

  async listDead<P = unknown>(queue: string, limit = 100): Promise<DeadJob<P>[]> {
    const rows = await this.database.db
      .selectFrom('jobs')
      .selectAll()
      .where('queue', '=', queue)
      .where('state', '=', 'dead')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      queue: r.queue,
      payload: JSON.parse(r.payload) as P,
      attempts: r.attempts,
      lastError: r.last_error,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  /** Counts by queue, for metrics and the admin API. */
  async stats(): Promise<QueueStats[]> {
    const now = this.clock.now();
    const rows = await sql<{
      queue: string;
      ready: number | string;
      claimed: number | string;
      dead: number | string;
    }>`
      select queue,
        sum(case when state = 'ready' and (lease_token is null or available_at <= ${now}) then 1 else 0 end) as ready,
        sum(case when state = 'ready' and lease_token is not null and available_at > ${now} then 1 else 0 end) as claimed,
        sum(case when state = 'dead' then 1 else 0 end) as dead
      from jobs group by queue order by queue`.execute(this.database.db);
    return rows.rows.map((r) => ({
      queue: r.queue,
      ready: Number(r.ready),
      claimed: Number(r.claimed),
      dead: Number(r.dead),
    }));
  }

  /** Soonest time a ready job of `queue` becomes due, if any (lets workers sleep exactly that long). */
  async nextDueAt(queue: string): Promise<number | undefined> {
    const row = await this.database.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.min('available_at').as('at'))
      .where('queue', '=', queue)
      .where('state', '=', 'ready')
      .executeTakeFirst();
    return row?.at == null ? undefined : Number(row.at);
  }
}

function toJob<P>(row: JobsTable, leaseUntil: number): Job<P> {
  return {
    id: row.id,
    queue: row.queue,
    payload: JSON.parse(row.payload) as P,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    leaseToken: row.lease_token!,
    leaseUntil,
    lastError: row.last_error,
    createdAt: Number(row.created_at),
  };
}

function groupByToken(jobs: readonly Job[]): Map<string, Job[]> {
  const groups = new Map<string, Job[]>();
  for (const job of jobs) {
    const group = groups.get(job.leaseToken) ?? [];
    groups.set(job.leaseToken, group);
    group.push(job);
  }
  return groups;
}
