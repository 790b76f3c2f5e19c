import type { ConnectorClients } from '../connectors/connector-clients.js';
import type { Clock } from '../core/clock.js';
import type { QueuesService } from '../store/queue-module.js';
import type { SyncService } from '../sync/sync-service.js';
import type { VaultServices } from '../vault/index.js';
import type { DeliveriesService } from '../webhooks/delivery/deliveries-service.js';
import type { EventsService } from '../webhooks/events-module.js';
import type { LiveTails } from './live-tail.js';

/** The module services the dashboard reads and operates through (it never sees a store). */
export interface UiPorts {
  events: EventsService;
  delivery: DeliveriesService;
  vault: VaultServices;
  queues: QueuesService;
  /** Connections' HTTP clients (auth, limits, breaker, retries) and providers' checks, for the connection page. */
  connections: Pick<ConnectorClients, 'client' | 'check'>;
  syncs: Pick<
    SyncService,
    | 'list'
    | 'status'
    | 'runs'
    | 'records'
    | 'quarantine'
    | 'conflicts'
    | 'request'
    | 'pause'
    | 'resume'
    | 'retryQuarantine'
    | 'discardQuarantine'
    | 'resolveConflict'
    | 'confirmDeletes'
    | 'discardDeletes'
  >;
}

/** What every page's routes are given. */
export interface UiDeps extends UiPorts {
  clock: Clock;
  /** No admin token: the UI is open on loopback (and says so on every page). */
  open: boolean;
  /** The live tails (server-sent events) this process is serving. */
  tails: LiveTails;
}
