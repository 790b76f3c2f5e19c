import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

/** One readiness check's answer (`/readyz` lists them by name). */
export interface ReadinessCheck {
  ok: boolean;
  /** Why it is not ready, in plain words. */
  detail?: string;
}

/**
 * Routes a module mounts on the server: admin ones under `/api/v1` behind the admin token, public ones
 * at the root (webhook ingress, the OAuth callback). A Fastify plugin, registered once.
 */
export type ModuleRoutes = (app: FastifyInstance) => Promise<void>;

/** What every module is given by the engine: the process's clock, log and metrics registry. */
export interface ModuleContext {
  clock: Clock;
  /** Already a child logger named for the module (`{ module: name }`). */
  logger: Logger;
  /** Where the module registers its Prometheus metrics, once, at construction. */
  registry: Registry;
}

/**
 * A capability of the engine (events, delivery, vault, queues, UI; next syncs, connectors). A module is
 * built by its own factory from a `ModuleContext`, its settings and the ports it needs (typed services
 * of the modules built before it, passed in); it offers one small typed `service`, which is all the
 * server, the CLI and other modules see of it. See docs/decisions/0050-modules.md.
 */
export interface PatchbayModule<Service = unknown> {
  /** Short and stable (`events`, `delivery`): used in logs, readiness checks and the start order. */
  readonly name: string;
  readonly service: Service;
  /** Mounted under `/api/v1`, behind the admin token. */
  readonly adminRoutes?: ModuleRoutes;
  /** Mounted at the root, outside the admin API. */
  readonly publicRoutes?: ModuleRoutes;
  /**
   * Pages for a browser (the dashboard), mounted at the root behind the admin API's Host and Origin
   * rules, with links from other sites allowed and forms accepted: the module signs its users in and
   * checks a CSRF token on every change itself.
   */
  readonly browserRoutes?: ModuleRoutes;
  /** Checks `/readyz` reports, by name; a failing one makes the process unready. */
  readiness?(): Promise<Record<string, ReadinessCheck>>;
  /**
   * Starts the module's queue workers and timers. Only processes that do work call it (`start` without
   * `--no-workers`, `worker`); a process that only serves or inspects never does.
   */
  start?(): Promise<void>;
  /** Stops what `start` started (letting running jobs finish) and releases what the factory opened. */
  stop?(): Promise<void>;
}
