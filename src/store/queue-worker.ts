import { type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type { Database } from './database.js';
import {
  DEFAULT_LEASE_MS,
  failureOutcome,
  type Job,
  type JobFailure,
  type JobQueue,
  QUEUE_CHANNEL,
} from './queue.js';

/**
 * What a handler may return instead of plain success. `deferred: true` says the job did no work (it
 * waits for its turn, a limit or a breaker): it runs again at `retryAt` without spending one of its
 * attempts, which only bound jobs that keep failing or crashing their worker.
 */
export type JobOutcome =
  | undefined
  | { retryAt: number; error: string; deferred?: boolean }
  | { dead: true; error: string };

export interface JobContext {
  /** Aborts when the worker shuts down and the grace period is over, or the lease is lost. */
  signal: AbortSignal;
}

export type JobHandler<P> = (job: Job<P>, ctx: JobContext) => Promise<JobOutcome | undefined>;

export interface WorkerOptions<P> {
  queue: string;
  handler: JobHandler<P>;
  /** Jobs in flight at once. Defaults to 10. */
  concurrency?: number;
  /** Jobs claimed per query. Defaults to `concurrency`. */
  batchSize?: number;
  /** Lease length in ms; renewed every third of it while a job runs. Defaults to 30 s. */
  leaseMs?: number;
  /** Longest idle wait between polls, in ms (wake-ups usually come sooner by NOTIFY). Defaults to 1 s. */
  pollIntervalMs?: number;
  /** Delay before retrying a job whose handler threw. Defaults to 1 s·2^(attempt−1), capped at 5 min. */
  retryDelayMs?: (job: Job<P>, error: unknown) => number;
  clock?: Clock;
  logger?: Logger;
  /** Called after every job, for metrics. */
  onSettled?: (job: Job<P>, outcome: 'completed' | 'retry' | 'dead' | 'lost', durationMs: number) => void;
}

/** The reason a wake-up aborts the idle sleep with: one shared object, so waking allocates nothing. */
const WAKE = new PatchbayError(ErrorCode.ABORTED, 'worker woken');

const defaultRetryDelay = (job: Job<unknown>) => Math.min(300_000, 1000 * 2 ** Math.max(0, job.attempts - 1));

/**
 * Runs a queue's jobs: claims in batches under a lease, runs up to `concurrency` handlers at once,
 * renews leases while they run, and records outcomes in batches. `stop()` stops claiming, lets running
 * jobs finish within a grace period, and gives back the ones that do not.
 */
export class QueueWorker<P = unknown> {
  private readonly options: Required<Omit<WorkerOptions<P>, 'onSettled'>> &
    Pick<WorkerOptions<P>, 'onSettled'>;
  private readonly inflight = new Map<string, { job: Job<P>; controller: AbortController }>();
  private readonly finished: Job<P>[] = [];
  /** Failed jobs whose new state (retry time or dead letter) is not written yet. */
  private readonly failed: JobFailure[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** Settled jobs being written; `stop()` waits for them, or a stopped worker would leave jobs claimed. */
  private readonly flushes = new Set<Promise<void>>();
  private running = false;
  private loopDone: Promise<void> | undefined;
  private wake: AbortController = new AbortController();
  private unlisten: (() => Promise<void>) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private idle: Promise<void> = Promise.resolve();
  private resolveIdle: (() => void) | undefined;

  constructor(
    private readonly database: Database,
    private readonly jobs: JobQueue,
    options: WorkerOptions<P>,
  ) {
    const concurrency = options.concurrency ?? 10;
    this.options = {
      concurrency,
      batchSize: options.batchSize ?? concurrency,
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      retryDelayMs: options.retryDelayMs ?? defaultRetryDelay,
      clock: options.clock ?? systemClock,
      logger: options.logger ?? silentLogger,
      queue: options.queue,
      handler: options.handler,
      onSettled: options.onSettled,
    };
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unlisten = await this.database.listen(QUEUE_CHANNEL, (queue) => {
      if (queue === this.options.queue) this.wake.abort(WAKE);
    });
    const beat = Math.max(50, Math.floor(this.options.leaseMs / 3));
    this.heartbeat = setInterval(() => void this.renewLeases(), beat);
    this.heartbeat.unref();
    this.loopDone = this.loop();
  }

  /**
   * Stops claiming; waits up to `graceMs` for running jobs, then aborts and releases the rest so another
   * worker takes them at once instead of after their lease.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake.abort(WAKE);
    await this.loopDone;
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    const leftover = [...this.inflight.values()];
    for (const entry of leftover) entry.controller.abort();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush();
    if (leftover.length > 0) {
      await this.jobs.release(leftover.map((e) => e.job)).catch((err) => {
        this.options.logger.warn(
          { err: errorMessage(err) },
          'could not release jobs; they return after their lease',
        );
      });
    }
    clearInterval(this.heartbeat);
    await this.unlisten?.();
  }

  private async loop(): Promise<void> {
    const { clock, logger, queue, concurrency, batchSize } = this.options;
    // Refill when half a batch of slots is free (or nothing runs): claiming one job per freed slot would
    // cost a commit per job.
    const refillAt = Math.max(1, Math.min(concurrency, Math.floor(batchSize / 2)));
    while (this.running) {
      const free = concurrency - this.inflight.size;
      if (free < refillAt && this.inflight.size > 0) {
        await this.waitForWake(this.options.pollIntervalMs);
        continue;
      }
      let claimed: Job<P>[];
      const finished = this.finished.splice(0);
      const failed = this.failed.splice(0);
      try {
        // A fresh wake signal before claiming, so a NOTIFY that arrives during the claim is not lost.
        if (this.wake.signal.aborted) this.wake = new AbortController();
        claimed = await this.jobs.completeAndClaim<P>(
          finished,
          queue,
          { limit: Math.min(free, batchSize), leaseMs: this.options.leaseMs },
          failed,
        );
      } catch (err) {
        // The settled jobs were not recorded: they run again after their lease (at-least-once).
        logger.error({ queue, err: errorMessage(err) }, 'claiming jobs failed; retrying in 1 s');
        await this.waitForWake(1000);
        continue;
      }
      if (claimed.length === 0) {
        if (this.inflight.size > 0) {
          await this.waitForWake(this.options.pollIntervalMs);
          continue;
        }
        const due = await this.jobs.nextDueAt(queue).catch(() => undefined);
        const wait = due === undefined ? this.options.pollIntervalMs : Math.max(0, due - clock.now());
        await this.waitForWake(Math.min(wait, this.options.pollIntervalMs));
        continue;
      }
      for (const job of claimed) this.run(job);
    }
  }

  /**
   * Sleeps until woken (NOTIFY, a finished job) or `ms` passes. A wake-up that arrived since the last wait
   * returns at once, exactly once: the signal is replaced so the next wait sleeps again (otherwise a loop
   * with every slot busy would spin on microtasks and starve the jobs it waits for).
   */
  private async waitForWake(ms: number): Promise<void> {
    if (!this.running) return;
    if (this.wake.signal.aborted) {
      this.wake = new AbortController();
      return;
    }
    await this.options.clock.sleep(ms, this.wake.signal).catch(() => {});
  }

  private run(job: Job<P>): void {
    const controller = new AbortController();
    if (this.inflight.size === 0) this.idle = new Promise((resolve) => (this.resolveIdle = resolve));
    this.inflight.set(job.id, { job, controller });
    const started = this.options.clock.now();
    void this.execute(job, controller.signal).then((outcome) => {
      this.inflight.delete(job.id);
      this.options.onSettled?.(job, outcome, this.options.clock.now() - started);
      if (this.inflight.size === 0) this.resolveIdle?.();
      // A slot is free: let the loop claim more.
      this.wake.abort(WAKE);
    });
  }

  private async execute(job: Job<P>, signal: AbortSignal): Promise<'completed' | 'retry' | 'dead' | 'lost'> {
    const { logger, queue } = this.options;
    let outcome: JobOutcome | undefined;
    let thrown: unknown;
    try {
      outcome = await this.options.handler(job, { signal });
    } catch (err) {
      thrown = err;
    }
    if (thrown === undefined && outcome === undefined) {
      this.finished.push(job);
      this.scheduleFlush();
      return 'completed';
    }
    // Aborted by stop() (which releases the job) or because the lease was lost: not ours to record.
    if (signal.aborted) return 'lost';
    const failure =
      thrown !== undefined
        ? {
            error: errorMessage(thrown),
            runAt: this.options.clock.now() + this.options.retryDelayMs(job, thrown),
          }
        : outcome && 'dead' in outcome
          ? { error: outcome.error, dead: true }
          : {
              error: outcome!.error,
              runAt: (outcome as { retryAt: number }).retryAt,
              uncounted: (outcome as { deferred?: boolean }).deferred === true,
            };
    // Recorded with the next claim or the next flush, like completions: a failure costs no commit of its
    // own (a deferral storm behind an open breaker would otherwise pay an fsync per job).
    this.failed.push({ job, options: failure });
    this.scheduleFlush();
    const result = failureOutcome(job, failure);
    if (result === 'dead') logger.warn({ queue, jobId: job.id, error: failure.error }, 'job dead-lettered');
    return result;
  }

  /**
   * Finished jobs are deleted, and failed ones rescheduled, together: with the next claim when the worker
   * is busy, else by this timer a few milliseconds later. Until then their lease keeps them from running
   * again.
   */
  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, 5);
  }

  /** Writes the settled jobs, and resolves when every write started so far is done. */
  private flush(): Promise<unknown> {
    if (this.finished.length > 0 || this.failed.length > 0) {
      const done = this.jobs.settle(this.finished.splice(0), this.failed.splice(0)).then(
        () => {
          this.flushes.delete(done);
        },
        (err) => {
          this.flushes.delete(done);
          // The jobs ran; if recording that fails they run again after their lease (at-least-once).
          this.options.logger.error(
            { queue: this.options.queue, err: errorMessage(err) },
            'recording finished jobs failed',
          );
        },
      );
      this.flushes.add(done);
    }
    return Promise.all(this.flushes);
  }

  private async renewLeases(): Promise<void> {
    const entries = [...this.inflight.values()];
    if (entries.length === 0) return;
    try {
      const lost = new Set(
        await this.jobs.extend(
          entries.map((e) => e.job),
          this.options.leaseMs,
        ),
      );
      for (const entry of entries) if (lost.has(entry.job.id)) entry.controller.abort();
    } catch (err) {
      this.options.logger.warn(
        { queue: this.options.queue, err: errorMessage(err) },
        'renewing leases failed',
      );
    }
  }
}
