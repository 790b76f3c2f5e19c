import type { PatchbayConfig } from '../core/config/index.js';
import type { ModuleContext, PatchbayModule } from '../core/module.js';
import type { RateLimitStore } from '../resilience/rate-limit-store.js';
import type { ConnectionReader, ConnectorClients } from './connector-clients.js';
import type { SubscriptionView } from './subscription-view.js';

/**
 * What the engine gives a module a connector contributes (Graph's subscriptions): the connections,
 * their clients, the shared limit store, and the two things it may ask of the delivery and sync modules.
 */
export interface ConnectorModulePorts {
  connections: ConnectionReader;
  clients: Pick<ConnectorClients, 'client'>;
  /** The engine's shared limit store (its leases make one process among all the one that acts). */
  limits: RateLimitStore;
  /** Subscribes an in-process handler to events matching `pattern` (the delivery service's `on`). */
  on(pattern: string, handler: (type: string, payload: unknown) => Promise<void>, id: string): Promise<void>;
  /** Requests an incremental run of a sync (`trigger: 'event'`). */
  requestRun(syncId: string, at: number): Promise<unknown>;
}

/**
 * The service of a contributed module, as far as the rest of the engine knows it: the
 * change-notification subscriptions it keeps, if it keeps any (`GET /connections/:id/subscriptions`
 * lists those of every contributed module).
 */
export interface ConnectorModuleService {
  subscriptions?(connectionId?: string): SubscriptionView[];
}

export type ConnectorModuleFactory = (
  ctx: ModuleContext,
  config: PatchbayConfig,
  ports: ConnectorModulePorts,
) => Promise<PatchbayModule<ConnectorModuleService>>;

/**
 * A module a connector contributes, as the registry lists it: whether a config needs it, answered
 * without loading anything of the connector, and its factory, imported only when one does.
 */
export interface ConnectorModuleEntry {
  /** The module's name (logs, readiness checks). */
  readonly name: string;
  needed(config: PatchbayConfig): boolean;
  load(): Promise<ConnectorModuleFactory>;
}
