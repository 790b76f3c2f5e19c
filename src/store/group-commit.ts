import type { Database, Tx } from './database.js';

export interface GroupCommitOptions {
  /** Most items per transaction. Defaults to 1000. */
  maxBatch?: number;
}

/**
 * Group commit: items submitted while a transaction is being written wait and go together in the next one,
 * so N concurrent writers cost one commit (one fsync), not N. With no load there is no added latency: the
 * first item starts a transaction at once. Each `submit` resolves only after its transaction committed.
 *
 * If a batch fails, its items are retried one per transaction, so one bad item fails alone and the
 * others still commit.
 */
export class GroupCommitter<I, O> {
  private pending: { item: I; resolve: (value: O) => void; reject: (err: unknown) => void }[] = [];
  private writing = false;
  private readonly maxBatch: number;

  constructor(
    private readonly database: Database,
    private readonly write: (tx: Tx, items: I[]) => Promise<O[]>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // Wait for the end of this event-loop turn: every request or response handled in the same turn
        // joins the batch. Without it a synchronous driver (better-sqlite3) would commit each item alone.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
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
            continue;
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
      }
    } finally {
      this.writing = false;
    }
  }
}
