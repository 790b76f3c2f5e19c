import { Gauge } from 'prom-client';
import type { ModuleContext, PatchbayModule } from '../core/module.js';
import { reuse } from '../resilience/resilience-metrics.js';
import { healthRoutes } from './health-routes.js';
import { everyObject, type HealthPorts, HealthService } from './health-service.js';

export interface HealthSettings {
  /** How often this process checks for threshold crossings. Defaults to 30 s. */
  watchIntervalMs?: number;
}

export type HealthModule = PatchbayModule<HealthService>;

/**
 * Integration health: `GET /api/v1/status`, the `patchbay_health_score{kind,id}` gauges (computed at
 * scrape time), and, in processes that do work, a watch publishing threshold events every 30 s.
 */
export function createHealthModule(
  ctx: ModuleContext,
  settings: HealthSettings,
  ports: Omit<HealthPorts, 'clock' | 'logger'>,
): HealthModule {
  const { clock, logger, registry } = ctx;
  const service = new HealthService({ ...ports, clock, logger });
  reuse(
    registry,
    'patchbay_health_score',
    () =>
      new Gauge({
        name: 'patchbay_health_score',
        help: 'Health score 0–100 of each source, destination, connection and sync (docs/operations.md)',
        labelNames: ['kind', 'id'],
        registers: [registry],
        async collect() {
          const document = await service.status();
          this.reset();
          for (const item of everyObject(document)) this.set({ kind: item.kind, id: item.id }, item.score);
        },
      }),
  );
  const interval = settings.watchIntervalMs ?? 30_000;
  let stopping: AbortController | undefined;
  let loop: Promise<void> | undefined;
  return {
    name: 'health',
    service,
    adminRoutes: (app) => healthRoutes(app, service),
    async start() {
      stopping = new AbortController();
      const signal = stopping.signal;
      loop = (async () => {
        while (!signal.aborted) {
          await service.watch().catch((err) => logger.warn({ err }, 'health check failed'));
          await clock.sleep(interval, signal).catch(() => undefined);
        }
      })();
    },
    async stop() {
      stopping?.abort();
      await loop;
    },
  };
}
