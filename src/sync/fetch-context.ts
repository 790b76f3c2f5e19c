import type { Logger } from '../core/logger.js';
import type { HttpClient } from '../http/create-http-client.js';
import type { Checkpoint, SyncMode } from './page.js';

/** What a sync's `fetch` (and `push`) gets from the runner. */
export interface SyncContext {
  readonly syncId: string;
  /** The connection the sync reads through, when it has one. */
  readonly connectionId: string | undefined;
  /**
   * The connection's resilient HTTP client: its credentials, rate limits, breaker and retries. Reading
   * it on a sync without a connection throws `CONFIG_INVALID`.
   */
  readonly http: HttpClient;
  /** Ends when the run must stop: time limit reached, lease lost, engine stopping. Pass it on. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** The engine's clock, in ms. */
  now(): number;
}

export interface FetchContext<C extends Checkpoint = Checkpoint> extends SyncContext {
  /** The last committed checkpoint of this read; undefined at the very start (or of a full read). */
  readonly checkpoint: C | undefined;
  readonly mode: SyncMode;
  /**
   * When this read started (ms), across resumed runs. Unsorted sources should not move a watermark past
   * it (Singer's signposts): records changed after it are read by the next run.
   */
  readonly startedAt: number;
}
