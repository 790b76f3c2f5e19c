import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Database } from './database.js';
import type { JobQueue } from './queue.js';
import { type JobHandler, QueueWorker } from './queue-worker.js';

/** How a process works its queues (the configuration's `workers:` section). */
export interface WorkerSettings {
  /** Jobs in flight per queue and process. */
  concurrency: number;
  /** Lease of a claimed job, in ms. */
  lease: number;
  /** Longest idle wait between claims when no notification comes, in ms. */
  pollInterval: number;
  /** How long `stop` lets running jobs finish, in ms. */
  shutdownGrace: number;
}

export interface QueueRegistration<P = unknown> {
  queue: string;
  handler: JobHandler<P>;
  /** Jobs in flight per process; defaults to `concurrency` of the settings. */
  concurrency?: number;
  batchSize?: number;
}

/** Runs one worker per queue a module owns: started with the module, stopped with it. */
export class QueueRunner {
  private readonly workers: QueueWorker<unknown>[] = [];

  constructor(
    private readonly database: Database,
    private readonly queue: JobQueue,
    private readonly settings: WorkerSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly registrations: readonly QueueRegistration<never>[],
  ) {}

  async start(): Promise<void> {
    const { concurrency, lease, pollInterval } = this.settings;
    for (const reg of this.registrations) {
      const worker = new QueueWorker<unknown>(this.database, this.queue, {
        queue: reg.queue,
        handler: reg.handler as JobHandler<unknown>,
        concurrency: reg.concurrency ?? concurrency,
        batchSize: reg.batchSize ?? reg.concurrency ?? concurrency,
        leaseMs: lease,
        pollIntervalMs: pollInterval,
        clock: this.clock,
        logger: this.logger.child({ queue: reg.queue }),
      });
      await worker.start();
      this.workers.push(worker);
    }
    if (this.workers.length > 0) {
      this.logger.info({ queues: this.registrations.map((r) => r.queue) }, 'workers started');
    }
  }

  async stop(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.stop(this.settings.shutdownGrace)));
  }
}
