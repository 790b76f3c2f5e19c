import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { LoopBlockReporter } from '../core/loop-block.js';
import type { HttpClient } from '../http/create-http-client.js';
import type { Tx } from '../store/database.js';
import type { NewEvent } from '../store/event-store.js';
import type { SyncStores } from '../store/sync/index.js';
import type { SyncMetrics } from './sync-metrics.js';

/**
 * Where change events go: the event log, inside the page's transaction (so an event exists exactly
 * when its change does), routed to destinations in it too. The engine plugs in the event pipeline.
 */
export interface ChangeEventSink {
  append(tx: Tx, events: readonly NewEvent[]): Promise<void>;
}

/** The resilient HTTP client of a connection (cached by the caller as it likes). */
export type HttpClientFactory = (connectionId: string) => HttpClient | Promise<HttpClient>;

/** What the sync engine needs from the rest of Patchbay, passed in at construction. */
export interface SyncPorts {
  stores: SyncStores;
  events: ChangeEventSink;
  clients: HttpClientFactory;
  clock: Clock;
  logger: Logger;
  metrics?: SyncMetrics;
  /** Told when a page's transforms held the event loop over 50 ms. */
  onLoopBlock?: LoopBlockReporter;
}

/** Settings of the runner, shared by every sync of a process. */
export interface RunnerSettings {
  /** Who this runner is in leases and logs (process and instance). */
  owner: string;
  /** Lease of a run; renewed by every commit and a heartbeat at a third of it. Defaults to 60 s. */
  leaseMs: number;
  /** Deletes per transaction of a sweep. Defaults to 1000. */
  sweepBatch: number;
  /** Times one run restarts after an expired cursor before it fails. Defaults to 3. */
  maxCursorRestarts: number;
  /**
   * Throttled page reads (429, 503 with Retry-After, after the HTTP client's own attempts) a run waits out
   * in a row, with no page committed in between, before it fails. Defaults to 10.
   */
  maxThrottleWaits?: number;
  /** The longest single wait for a throttled page; a source asking for more fails the run. Defaults to 5 min. */
  maxThrottleWaitMs?: number;
}

export const DEFAULT_RUNNER_SETTINGS: Required<Omit<RunnerSettings, 'owner'>> = {
  leaseMs: 60_000,
  sweepBatch: 1000,
  maxCursorRestarts: 3,
  maxThrottleWaits: 10,
  maxThrottleWaitMs: 300_000,
};
