import type { ModuleContext, PatchbayModule } from '../core/module.js';
import { BulkJobs } from './bulk-jobs.js';
import { LiveTails } from './live-tail.js';
import { Sessions } from './session.js';
import type { UiPorts } from './ui-deps.js';
import { uiRoutes } from './ui-routes.js';

export interface UiSettings {
  /** The admin token (sign-in takes it); undefined leaves the UI open on loopback, as the API is. */
  adminToken: string | undefined;
  /** How long a sign-in lasts, in ms. Defaults to 8 h. */
  sessionTtlMs?: number;
}

/** What the dashboard offers other modules: nothing yet beyond its pages. */
export type UiService = Record<string, never>;

export type UiModule = PatchbayModule<UiService>;

export const DEFAULT_SESSION_TTL_MS = 8 * 3_600_000;

/**
 * The dashboard at `/ui/`: server-rendered pages over the other modules' services (docs/dashboard.md,
 * docs/decisions/0100-dashboard-server-rendered.md). It owns its sessions and the background jobs it
 * starts; it reads and changes everything through services, never a store.
 */
export async function createUiModule(
  ctx: ModuleContext,
  settings: UiSettings,
  ports: UiPorts,
): Promise<UiModule> {
  const sessions = new Sessions({
    adminToken: settings.adminToken,
    ttlMs: settings.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    clock: ctx.clock,
  });
  const tails = new LiveTails(ctx.clock);
  const deps = { ...ports, clock: ctx.clock, open: !sessions.protected, tails };
  const jobs = new BulkJobs({ delivery: ports.delivery, clock: ctx.clock, logger: ctx.logger });
  return {
    name: 'ui',
    service: {},
    browserRoutes: (app) => uiRoutes(app, deps, sessions, jobs),
    // Jobs replay through the delivery module: they end before it stops (modules stop in reverse).
    stop: async () => {
      tails.stop();
      await jobs.stop();
    },
  };
}
