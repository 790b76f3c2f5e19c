import { sql } from 'kysely';
import type { Database } from './database.js';
import type { EncryptionKeysTable } from './schema.js';

/** A registered encryption key (never the key itself): its id, key-check value and role. */
export interface EncryptionKey {
  /** The key id recorded in every ciphertext it made. */
  id: string;
  /** A known value encrypted with the key: proves at start-up that a configured key is the right one. */
  checkValue: string;
  /**
   * `primary` encrypts new data; `previous` was primary and may still hold data until the rotation
   * ends; `standby` is configured somewhere but never encrypted anything; `retired` holds no data.
   */
  status: EncryptionKeyStatus;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  updatedAt: number;
}

export type EncryptionKeyStatus = EncryptionKeysTable['status'];

/** A column of some table that holds vault ciphertext, for re-encryption after a key rotation. */
export interface CiphertextColumn {
  table: string;
  /** The primary-key column (text). */
  idColumn: string;
  column: string;
}

export interface CiphertextValue {
  id: string;
  value: string;
}

/**
 * The registry of encryption keys (ids, key-check values, which one is primary) and the generic SQL the
 * rotation needs to find and rewrite ciphertext made under other keys, in any registered table.
 */
export class EncryptionKeyStore {
  constructor(private readonly database: Database) {}

  async all(): Promise<EncryptionKey[]> {
    const rows = await this.database.db
      .selectFrom('encryption_keys')
      .selectAll()
      .orderBy('created_at')
      .execute();
    return rows.map(toKey);
  }

  /** The id of the key that encrypts new data, if any key was registered. */
  async primaryId(): Promise<string | undefined> {
    const row = await this.database.db
      .selectFrom('encryption_keys')
      .select('id')
      .where('status', '=', 'primary')
      .executeTakeFirst();
    return row?.id;
  }

  /** Registers keys not seen before (an existing id is left untouched, whoever wrote it). */
  async register(keys: readonly EncryptionKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.database.db
      .insertInto('encryption_keys')
      .values(keys.map(toRow))
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /**
   * Registers the first key of a fresh database as primary, unless some key is primary already (two
   * processes starting at once on an empty database: one wins, the other verifies against it).
   */
  async registerFirstPrimary(key: EncryptionKey): Promise<void> {
    await this.database.transaction(async (tx) => {
      const existing = await tx.db
        .selectFrom('encryption_keys')
        .select('id')
        .where('status', '=', 'primary')
        .executeTakeFirst();
      if (existing) return;
      await tx.db
        .insertInto('encryption_keys')
        .values(toRow(key))
        .onConflict((oc) => oc.column('id').doUpdateSet({ status: 'primary', updated_at: key.updatedAt }))
        .execute();
    });
  }

  /** Makes `id` the primary key; the former primary becomes `previous` (it holds data until re-encrypted). */
  async promote(id: string, now: number): Promise<void> {
    await this.database.transaction(async (tx) => {
      await tx.db
        .updateTable('encryption_keys')
        .set({ status: 'previous', updated_at: now })
        .where('status', '=', 'primary')
        .where('id', '<>', id)
        .execute();
      await tx.db
        .updateTable('encryption_keys')
        .set({ status: 'primary', updated_at: now })
        .where('id', '=', id)
        .execute();
    });
  }

  /** Marks keys as holding no data any more (after a rotation re-encrypted everything). */
  async retire(ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.database.db
      .updateTable('encryption_keys')
      .set({ status: 'retired', updated_at: now })
      .where('id', 'in', [...ids])
      .where('status', '<>', 'primary')
      .execute();
  }

  /** How many values of `column` were not made under the key whose ciphertexts start with `prefix`. */
  async countOther(column: CiphertextColumn, prefix: string): Promise<number> {
    const { table, column: col } = column;
    const result = await sql<{ n: number | string }>`
      select count(*) as n from ${sql.table(table)}
      where ${sql.ref(col)} is not null and substr(${sql.ref(col)}, 1, ${prefix.length}) <> ${prefix}`.execute(
      this.database.db,
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  /** How many values of `column` were made under the key whose ciphertexts start with `prefix`. */
  async countWith(column: CiphertextColumn, prefix: string): Promise<number> {
    const { table, column: col } = column;
    const result = await sql<{ n: number | string }>`
      select count(*) as n from ${sql.table(table)}
      where substr(${sql.ref(col)}, 1, ${prefix.length}) = ${prefix}`.execute(this.database.db);
    return Number(result.rows[0]?.n ?? 0);
  }

  /** The next page (by id) of values not made under the key with ciphertext prefix `prefix`. */
  async pageOther(
    column: CiphertextColumn,
    prefix: string,
    after: string | undefined,
    limit: number,
  ): Promise<CiphertextValue[]> {
    const { table, idColumn, column: col } = column;
    const afterClause = after === undefined ? sql`` : sql`and ${sql.ref(idColumn)} > ${after}`;
    const result = await sql<CiphertextValue>`
      select ${sql.ref(idColumn)} as id, ${sql.ref(col)} as value from ${sql.table(table)}
      where ${sql.ref(col)} is not null and substr(${sql.ref(col)}, 1, ${prefix.length}) <> ${prefix}
      ${afterClause}
      order by ${sql.ref(idColumn)} limit ${limit}`.execute(this.database.db);
    return result.rows;
  }

  /** Replaces one value only if it is still exactly `from` (a concurrent writer's value wins). */
  async swap(column: CiphertextColumn, id: string, from: string, to: string): Promise<boolean> {
    const { table, idColumn, column: col } = column;
    const result = await sql`
      update ${sql.table(table)} set ${sql.ref(col)} = ${to}
      where ${sql.ref(idColumn)} = ${id} and ${sql.ref(col)} = ${from}`.execute(this.database.db);
    return Number(result.numAffectedRows ?? 0) === 1;
  }
}

/** Field by field (decision 0053); PostgreSQL's bigints arrive parsed, `Number` keeps SQLite's as they are. */
function toKey(row: EncryptionKeysTable): EncryptionKey {
  return {
    id: row.id,
    checkValue: row.check_value,
    status: row.status,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toRow(key: EncryptionKey): EncryptionKeysTable {
  return {
    id: key.id,
    check_value: key.checkValue,
    status: key.status,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
  };
}
