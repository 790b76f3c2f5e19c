import {
  type BreakerSnapshot,
  type BreakerStateStore,
  compareAndSetLoop,
  type Versioned,
} from '../../resilience/index.js';
import type { Database } from '../database.js';

/**
 * Circuit-breaker state in the store's database: one row per breaker, updated by compare-and-set on
 * `version` so concurrent processes never overwrite each other's transition.
 */
export class SqlBreakerStateStore implements BreakerStateStore {
  constructor(
    private readonly database: Database,
    private readonly now: () => number = Date.now,
  ) {}

  update(
    key: string,
    mutate: (current: BreakerSnapshot | undefined) => BreakerSnapshot,
  ): Promise<BreakerSnapshot> {
    const db = this.database.db;
    const read = async (): Promise<Versioned<BreakerSnapshot, number> | undefined> => {
      const row = await db
        .selectFrom('circuit_breakers')
        .select(['snapshot', 'version'])
        .where('key', '=', key)
        .executeTakeFirst();
      return row
        ? { value: JSON.parse(row.snapshot) as BreakerSnapshot, version: Number(row.version) }
        : undefined;
    };
    const write = async (expected: Versioned<BreakerSnapshot, number> | undefined, next: BreakerSnapshot) => {
      const snapshot = JSON.stringify(next);
      if (!expected) {
        const result = await db
          .insertInto('circuit_breakers')
          .values({ key, snapshot, version: 1, updated_at: this.now() })
          .onConflict((oc) => oc.column('key').doNothing())
          .executeTakeFirst();
        return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
      }
      const result = await db
        .updateTable('circuit_breakers')
        .set({ snapshot, version: expected.version + 1, updated_at: this.now() })
        .where('key', '=', key)
        .where('version', '=', expected.version)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    };
    return compareAndSetLoop(read, write, mutate);
  }
}
