import { abortError } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { Lease } from '../store/sync/index.js';
import type { SyncDefinition } from './define-sync.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { RunnerSettings, SyncPorts } from './ports.js';

/** What runs under a sync's lease gets: the lease (its token fences every commit) and the stop signal. */
export interface LeaseScope {
  lease: Lease;
  /** Aborts at the time limit (`TIMEOUT`), when the lease is lost (`LEASE_LOST`), or from outside. */
  signal: AbortSignal;
  /** Whether the time limit (rather than a lost lease or the caller) stopped it. */
  timedOut(): boolean;
}

/**
 * Runs `work` under the sync's lease: takes it (undefined when another runner holds it), keeps it alive
 * with a heartbeat, stops the work at the definition's time limit, and gives the lease back however the
 * work ends. Runs, verifies and quarantine retries all write records this way.
 */
export async function withLease<T>(
  ports: SyncPorts,
  settings: RunnerSettings,
  definition: SyncDefinition,
  outer: AbortSignal | undefined,
  work: (scope: LeaseScope) => Promise<T>,
): Promise<{ value: T } | undefined> {
  const { stores, clock } = ports;
  const lease = await stores.state.acquire(definition.id, settings.owner, clock.now(), settings.leaseMs);
  if (!lease) return undefined;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(abortError(outer));
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  if (outer?.aborted) onOuterAbort();
  const keeper = new LeaseKeeper(stores.state, lease, settings.leaseMs, clock, ports.logger, (err) =>
    controller.abort(err),
  );
  let timedOut = false;
  const limit = new AbortController();
  const timer = clock.sleep(definition.timeLimitMs, limit.signal).then(
    () => {
      timedOut = true;
      controller.abort(
        new PatchbayError(
          ErrorCode.TIMEOUT,
          `sync ${definition.id}: the run reached its time limit (${definition.timeLimitMs} ms); its progress is kept`,
        ),
      );
    },
    () => {},
  );
  keeper.start();
  try {
    return { value: await work({ lease, signal: controller.signal, timedOut: () => timedOut }) };
  } finally {
    keeper.close();
    limit.abort();
    await timer;
    outer?.removeEventListener('abort', onOuterAbort);
    await stores.state.release(lease, clock.now()).catch(() => {});
  }
}

/** A sync's lease is held by another runner: an operation that needs it now cannot start. */
export function busyError(syncId: string): PatchbayError {
  return new PatchbayError(
    ErrorCode.CONFLICT,
    `sync ${syncId} is running (another run holds its lease); try again when it ends`,
  );
}
