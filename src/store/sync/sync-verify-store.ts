import type { Database } from '../database.js';

const CHUNK = 500;

/**
 * Scratch space of `verify`: the keys (and hashes) a full read of the source saw, so the records the
 * source no longer has are found by a query, in bounded memory, however many records there are.
 */
export class SyncVerifyStore {
  constructor(private readonly database: Database) {}

  async add(verifyId: string, seen: readonly { id: string; hash: string }[]): Promise<void> {
    for (let i = 0; i < seen.length; i += CHUNK) {
      await this.database.db
        .insertInto('sync_verify_keys')
        .values(
          seen.slice(i, i + CHUNK).map((s) => ({ verify_id: verifyId, external_id: s.id, hash: s.hash })),
        )
        .onConflict((oc) =>
          oc.columns(['verify_id', 'external_id']).doUpdateSet((eb) => ({ hash: eb.ref('excluded.hash') })),
        )
        .execute();
    }
  }

  /** Live records of `syncId` the read did not see, in id order after `afterId`. */
  async extra(
    syncId: string,
    verifyId: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<string[]> {
    let q = this.database.db
      .selectFrom('sync_records as r')
      .select('r.external_id')
      .where('r.sync_id', '=', syncId)
      .where('r.deleted_at', 'is', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('sync_verify_keys as k')
              .select('k.external_id')
              .where('k.verify_id', '=', verifyId)
              .whereRef('k.external_id', '=', 'r.external_id'),
          ),
        ),
      );
    if (afterId !== undefined) q = q.where('r.external_id', '>', afterId);
    const rows = await q.orderBy('r.external_id').limit(limit).execute();
    return rows.map((r) => r.external_id);
  }

  async clear(verifyId: string): Promise<void> {
    await this.database.db.deleteFrom('sync_verify_keys').where('verify_id', '=', verifyId).execute();
  }
}
