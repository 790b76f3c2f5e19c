import { Gauge } from 'prom-client';
import type { ModuleContext, PatchbayModule } from '../core/module.js';
import type { DeadJob, JobQueue, QueueStats } from './queue.js';
import { queueRoutes } from './queue-routes.js';

/** What an operator does with the durable queue: see its depth, its dead letters, requeue them. */
export interface QueuesService {
  stats(): Promise<QueueStats[]>;
  listDead(queue: string, limit: number): Promise<DeadJob[]>;
  /** Puts dead jobs (all, or the ids given) back in line with fresh attempts; returns how many. */
  requeueDead(queue: string, ids?: readonly string[]): Promise<number>;
}

export type QueuesModule = PatchbayModule<QueuesService>;

/** Admin of the job queue every module's work goes through (the queue itself is the store's). */
export function createQueuesModule(ctx: ModuleContext, ports: { queue: JobQueue }): QueuesModule {
  const { queue } = ports;
  const service: QueuesService = {
    stats: () => queue.stats(),
    listDead: (name, limit) => queue.listDead(name, limit),
    requeueDead: (name, ids) => queue.requeueDead(name, ids),
  };
  const logger = ctx.logger;
  new Gauge({
    name: 'patchbay_queue_jobs',
    help: 'Jobs in the durable queue, by queue and state (ready, claimed, dead).',
    labelNames: ['queue', 'state'] as const,
    registers: [ctx.registry],
    async collect() {
      this.reset();
      try {
        for (const s of await queue.stats()) {
          this.set({ queue: s.queue, state: 'ready' }, s.ready);
          this.set({ queue: s.queue, state: 'claimed' }, s.claimed);
          this.set({ queue: s.queue, state: 'dead' }, s.dead);
        }
      } catch (err) {
        // The store being down is reported by /readyz; metrics still answer, without this gauge.
        logger.warn({ err }, 'queue depth could not be read for /metrics');
      }
    },
  });
  return { name: 'queues', service, adminRoutes: (app) => queueRoutes(app, service) };
}
