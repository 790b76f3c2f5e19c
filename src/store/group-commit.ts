import type { Database, Tx } from './database.js';

export interface GroupCommitOptions {
  /** Most items per transaction. Defaults to 1000. */
  maxBatch?: number;
  /**
   * Transactions in flight at once. Defaults to 1 on SQLite (one writer; the driver is synchronous) and 3
   * on PostgreSQL, where a commit waits on the server's disk: while one batch commits, the next is
   * already being written, instead of every request waiting for two commits.
   */
  concurrency?: number;
  /**
   * How long a batch waits for more items once its first one arrived, in ms. Defaults to 0: the end of
   * the current event-loop turn. Writers whose items trickle in one per turn (delivery responses arrive
   * on their own sockets) use a millisecond or two to share commits instead of paying an fsync each.
   */
  lingerMs?: number;
  /**
   * Whether more items are on their way (e.g. requests still in flight whose results will be submitted).
   * When it says no, a lingering batch starts at once: waiting would only add idle time.
   */
  moreComing?: () => boolean;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: items submitted while a transaction is being written wait and go together in the next one,
 * so N concurrent writers cost one commit (one fsync), not N. With no load there is no added latency: the
 * first item starts a transaction at once. Each `submit` resolves only after its transaction committed.
 *
 * If a batch fails (a bad item, or a deadlock between concurrent batches on PostgreSQL), its items are
 * retried one per transaction, so one bad item fails alone and the others still commit.
 */
export class GroupCommitter<I, O> {
  private pending: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly concurrency: number;
  private readonly lingerMs: number;
  private readonly moreComing: (() => boolean) | undefined;

  constructor(
    private readonly database: Database,
    private readonly write: (tx: Tx, items: I[]) => Promise<O[]>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.concurrency = options.concurrency ?? (database.dialect === 'postgres' ? 3 : 1);
    this.lingerMs = options.lingerMs ?? 0;
    this.moreComing = options.moreComing;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.concurrency || this.pending.length === 0) return;
    if (this.scheduled) {
      // Lingering for items that are no longer coming: start at the end of this turn instead.
      if (this.lingerTimer && this.moreComing?.() === false) {
        clearTimeout(this.lingerTimer);
        this.lingerTimer = undefined;
        setImmediate(this.start);
      }
      return;
    }
    this.scheduled = true;
    // Wait at least for the end of this event-loop turn: every request or response handled in the same
    // turn joins the batch. Without it a synchronous driver (better-sqlite3) would commit each item alone.
    if (this.lingerMs > 0 && this.moreComing?.() !== false)
      this.lingerTimer = setTimeout(this.start, this.lingerMs);
    else setImmediate(this.start);
  }

  private readonly start = (): void => {
    this.scheduled = false;
    this.lingerTimer = undefined;
    while (this.inFlight < this.concurrency && this.pending.length > 0) {
      void this.run(this.pending.splice(0, this.maxBatch));
    }
  };

  private async run(batch: Pending<I, O>[]): Promise<void> {
    this.inFlight++;
    try {
      try {
        const results = await this.database.transaction((tx) =>
          this.write(
            tx,
            batch.map((p) => p.item),
          ),
        );
        for (const [i, p] of batch.entries()) p.resolve(results[i]!);
      } catch (err) {
        if (batch.length === 1) {
          batch[0]!.reject(err);
          return;
        }
        for (const p of batch) {
          try {
            const [result] = await this.database.transaction((tx) => this.write(tx, [p.item]));
            p.resolve(result!);
          } catch (single) {
            p.reject(single);
          }
        }
      }
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
