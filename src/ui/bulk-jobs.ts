import type { Clock } from '../core/clock.js';
import { errorMessage, isPatchbayError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { DeliveryBrowseQuery } from '../store/delivery-store.js';
import type { DeliveriesService } from '../webhooks/delivery/deliveries-service.js';
import { count } from './format.js';

export type BulkAction = 'replay' | 'retry';
export type BulkState = 'collecting' | 'running' | 'completed' | 'failed' | 'cancelled';
export type DeliveryFilter = Omit<DeliveryBrowseQuery, 'limit' | 'window' | 'before'>;

/** One bulk replay or retry as its page and its JSON show it. */
export interface BulkJob {
  id: string;
  action: BulkAction;
  /** The filter as the form had it (to show and to link back to the list). */
  form: Record<string, string>;
  state: BulkState;
  /** Matching deliveries; null while they are still being collected. */
  total: number | null;
  /** Deliveries found so far (while collecting). */
  found: number;
  /** Replays queued. */
  done: number;
  /** Deliveries that could not be replayed (gone, or refused), with the last reason. */
  refused: number;
  lastProblem?: string;
  startedAt: number;
  finishedAt?: number;
  /** Set when the filter matched more than a job takes: the rest is left for another job. */
  truncated: boolean;
}

export interface BulkJobsOptions {
  delivery: Pick<DeliveriesService, 'browse' | 'replay'>;
  clock: Clock;
  logger: Logger;
  /** Deliveries one job replays at most. Defaults to 100,000. */
  maxPerJob?: number;
  /** Jobs kept to show after they end. Defaults to 20. */
  keep?: number;
}

/** Rows read per page while collecting, and how far one page looks (search-window.ts). */
const COLLECT_PAGE = 1000;
const COLLECT_WINDOW = 100_000;

/**
 * Replays (or retries the failed of) every delivery a filter matches, in the background of this
 * process: it first collects the matching ids newest first by keyset (so deliveries made by the
 * replays themselves are never picked up again, and the total is known), then replays them one by
 * one, counting. A job lives in the process that started it (docs/decisions/0103-dashboard-bulk-jobs.md).
 */
export class BulkJobs {
  private readonly jobs = new Map<string, BulkJob>();
  private readonly running = new Map<string, { abort: AbortController; finished: Promise<void> }>();
  private readonly maxPerJob: number;
  private readonly keep: number;

  constructor(private readonly options: BulkJobsOptions) {
    this.maxPerJob = options.maxPerJob ?? 100_000;
    this.keep = options.keep ?? 20;
  }

  start(action: BulkAction, filter: DeliveryFilter, form: Record<string, string>): BulkJob {
    const job: BulkJob = {
      id: newId('job', this.options.clock.now()),
      action,
      form,
      state: 'collecting',
      total: null,
      found: 0,
      done: 0,
      refused: 0,
      startedAt: this.options.clock.now(),
      truncated: false,
    };
    this.jobs.set(job.id, job);
    this.forgetOld();
    const abort = new AbortController();
    const finished = this.run(
      job,
      action === 'retry' ? { ...filter, status: 'failed' } : filter,
      abort.signal,
    )
      .catch((err: unknown) => {
        job.state = 'failed';
        job.lastProblem = errorMessage(err);
        this.options.logger.error({ err, job: job.id }, 'dashboard bulk job failed');
      })
      .finally(() => {
        job.finishedAt = this.options.clock.now();
        this.running.delete(job.id);
      });
    this.running.set(job.id, { abort, finished });
    return job;
  }

  get(id: string): BulkJob | undefined {
    return this.jobs.get(id);
  }

  /** Newest first. */
  list(): BulkJob[] {
    return [...this.jobs.values()].reverse();
  }

  cancel(id: string): boolean {
    const run = this.running.get(id);
    run?.abort.abort();
    return run !== undefined;
  }

  /** Resolves when the job has ended (tests and shutdown). */
  async settled(id: string): Promise<void> {
    await this.running.get(id)?.finished;
  }

  async stop(): Promise<void> {
    const all = [...this.running.values()];
    for (const run of all) run.abort.abort();
    await Promise.allSettled(all.map((r) => r.finished));
  }

  private async run(job: BulkJob, filter: DeliveryFilter, signal: AbortSignal): Promise<void> {
    const ids: string[] = [];
    let before: string | undefined;
    do {
      if (signal.aborted) {
        job.state = 'cancelled';
        return;
      }
      const page = await this.options.delivery.browse({
        ...filter,
        ...(before !== undefined && { before }),
        limit: COLLECT_PAGE,
        window: COLLECT_WINDOW,
      });
      for (const row of page.rows) ids.push(row.id);
      job.found = ids.length;
      before = page.next;
      if (ids.length >= this.maxPerJob) {
        job.truncated = before !== undefined || ids.length > this.maxPerJob;
        ids.length = Math.min(ids.length, this.maxPerJob);
        break;
      }
    } while (before !== undefined);
    job.total = ids.length;
    job.state = 'running';
    for (const id of ids) {
      if (signal.aborted) {
        job.state = 'cancelled';
        return;
      }
      try {
        await this.options.delivery.replay(id);
        job.done++;
      } catch (err) {
        if (!isPatchbayError(err) || err.code === 'INTERNAL') throw err;
        job.refused++;
        job.lastProblem = `${id}: ${errorMessage(err)}`;
      }
    }
    job.state = 'completed';
  }

  private forgetOld(): void {
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= this.keep) break;
      if (!this.running.has(id) && job.state !== 'collecting' && job.state !== 'running')
        this.jobs.delete(id);
    }
  }
}

/** The job's progress in one sentence (the page, its live update and the screen reader say the same). */
export function jobSummary(job: BulkJob): string {
  const verb = job.action === 'retry' ? 'Retried' : 'Replayed';
  const refused = job.refused > 0 ? `; ${count(job.refused)} refused` : '';
  switch (job.state) {
    case 'collecting':
      return `Finding the matching deliveries: ${count(job.found)} so far.`;
    case 'running':
      return `${verb} ${count(job.done)} of ${count(job.total ?? 0)}${refused}.`;
    case 'completed':
      return `Done: ${verb.toLowerCase()} ${count(job.done)} of ${count(job.total ?? 0)}${refused}${job.truncated ? `; the filter matches more than ${count(job.total ?? 0)}, start another job for the rest` : ''}.`;
    case 'cancelled':
      return `Cancelled after ${count(job.done)} of ${job.total === null ? 'the matching deliveries' : count(job.total)}${refused}.`;
    case 'failed':
      return `Stopped after ${count(job.done)}: ${job.lastProblem ?? 'an internal error'}.`;
  }
}
