import type { Database } from './database.js';

/** One write the ledger knows of. */
export type LedgerEntry =
  | { state: 'pending'; attemptAt: number; attempts: number }
  | { state: 'done'; result: unknown; attempts: number };

export type ClaimOutcome = { claimed: true; attemptAt: number } | { claimed: false; entry: LedgerEntry };

/**
 * The ledger of writes a provider cannot deduplicate itself. A caller claims `(scope, key)` before
 * sending; the claim is durable before a byte leaves, so after a crash the next caller knows an
 * attempt may have reached the provider and must look before sending again. Retaking an attempt is a
 * compare-and-set on its start time: of two processes recovering the same write, one wins.
 */
export class SendLedgerStore {
  constructor(private readonly database: Database) {}

  /** Starts the first attempt, or says what is already known. */
  async claim(scope: string, key: string, now: number): Promise<ClaimOutcome> {
    const inserted = await this.database.db
      .insertInto('send_ledger')
      .values({
        scope,
        key,
        state: 'pending',
        attempt_at: now,
        attempts: 1,
        result: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { claimed: true, attemptAt: now };
    const entry = await this.get(scope, key);
    // Deleted between the insert and the read (a release): claim again.
    return entry ? { claimed: false, entry } : this.claim(scope, key, now);
  }

  async get(scope: string, key: string): Promise<LedgerEntry | undefined> {
    const row = await this.database.db
      .selectFrom('send_ledger')
      .select(['state', 'attempt_at', 'attempts', 'result'])
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    return row.state === 'done'
      ? { state: 'done', result: row.result === null ? null : JSON.parse(row.result), attempts: row.attempts }
      : { state: 'pending', attemptAt: Number(row.attempt_at), attempts: row.attempts };
  }

  /** Starts another attempt of a pending write whose current one started at `attemptAt`; false if someone else did. */
  async retake(scope: string, key: string, attemptAt: number, now: number): Promise<boolean> {
    const result = await this.database.db
      .updateTable('send_ledger')
      .set((eb) => ({ attempt_at: now, attempts: eb('attempts', '+', 1), updated_at: now }))
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('state', '=', 'pending')
      .where('attempt_at', '=', attemptAt)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The write happened: later callers get `result` back without writing. */
  async complete(scope: string, key: string, result: unknown, now: number): Promise<void> {
    await this.database.db
      .updateTable('send_ledger')
      .set({ state: 'done', result: JSON.stringify(result ?? null), updated_at: now })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
  }

  /** The attempt provably did not happen (refused, never sent): the key is free again. */
  async release(scope: string, key: string, attemptAt: number): Promise<void> {
    await this.database.db
      .deleteFrom('send_ledger')
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('state', '=', 'pending')
      .where('attempt_at', '=', attemptAt)
      .execute();
  }

  /** Forgets completed writes last touched before `before` (keep them longer than any caller retries). */
  async prune(before: number): Promise<number> {
    const result = await this.database.db
      .deleteFrom('send_ledger')
      .where('state', '=', 'done')
      .where('updated_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
