import type { Clock } from '../core/clock.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Lease, SyncStateStore } from '../store/sync/index.js';

/**
 * Keeps a run's lease alive while a page is slow to come: renews it every third of its length. When a
 * renewal finds the lease gone (expired while this process was paused, or taken over) it aborts the
 * run with `LEASE_LOST`; the run's next commit would have been refused by the fence anyway, this only
 * stops it from fetching for nothing. A store that does not answer is retried until the lease ends.
 */
export class LeaseKeeper {
  private readonly stop = new AbortController();

  constructor(
    private readonly store: SyncStateStore,
    private readonly lease: Lease,
    private readonly leaseMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onLost: (err: PatchbayError) => void,
  ) {}

  start(): void {
    void this.loop();
  }

  close(): void {
    this.stop.abort();
  }

  private async loop(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(Math.max(1, Math.floor(this.leaseMs / 3)), signal);
      } catch {
        return;
      }
      try {
        if (await this.store.renew(this.lease, this.clock.now(), this.leaseMs)) continue;
        this.onLost(
          new PatchbayError(
            ErrorCode.LEASE_LOST,
            `sync ${this.lease.syncId}: the lease (token ${this.lease.token}) expired or was taken over`,
          ),
        );
        return;
      } catch (err) {
        if (signal.aborted) return;
        this.logger.warn(
          { sync: this.lease.syncId, err: errorMessage(err) },
          `sync ${this.lease.syncId}: renewing the lease failed; trying again`,
        );
      }
    }
  }
}
