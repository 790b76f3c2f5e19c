import { CompiledQuery } from 'kysely';
import type { Database } from './database.js';
import type { SourcesTable } from './schema.js';

/** A webhook source made through the admin API, as stored (the vault encrypts `secrets`). */
export interface StoredSource {
  id: string;
  /** The source's definition as JSON text, its secrets left out (the webhooks layer owns its type). */
  definition: string;
  /** Vault ciphertext of the JSON array of secrets. */
  secrets: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; set by every write. */
  updatedAt: number;
}

/** Webhook sources made through the admin API (the vault encrypts the secrets column). */
export class SourceStore {
  constructor(private readonly database: Database) {}

  /** Inserts unless the id is taken; returns whether it was inserted. */
  async insert(source: StoredSource): Promise<boolean> {
    const result = await this.database.db
      .insertInto('sources')
      .values(toRow(source))
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async get(id: string): Promise<StoredSource | undefined> {
    const row = await this.database.db
      .selectFrom('sources')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toSource(row);
  }

  /**
   * A value that changes whenever a source is made, changed or deleted (row count and the sum of
   * `updated_at`, which every write sets), as for API destinations: one small read tells a process
   * whether its copy is current.
   */
  async version(): Promise<string> {
    const { rows } = await this.database.db.executeQuery<{ n: number | string; s: number | string | null }>(
      SOURCES_VERSION,
    );
    return `${rows[0]?.n ?? 0}:${rows[0]?.s ?? 0}`;
  }

  async list(): Promise<StoredSource[]> {
    const rows = await this.database.db.selectFrom('sources').selectAll().orderBy('id').execute();
    return rows.map(toSource);
  }

  async update(
    id: string,
    fields: Pick<StoredSource, 'definition' | 'secrets' | 'updatedAt'>,
  ): Promise<boolean> {
    const result = await this.database.db
      .updateTable('sources')
      .set({ definition: fields.definition, secrets: fields.secrets, updated_at: fields.updatedAt })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.database.db.deleteFrom('sources').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}

const SOURCES_VERSION = CompiledQuery.raw('select count(*) as n, sum(updated_at) as s from sources');

/** PostgreSQL's bigints come back parsed by the pool, SQLite's as numbers; `Number` keeps both exact. */
function toSource(row: SourcesTable): StoredSource {
  return {
    id: row.id,
    definition: row.definition,
    secrets: row.secrets,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toRow(source: StoredSource): SourcesTable {
  return {
    id: source.id,
    definition: source.definition,
    secrets: source.secrets,
    created_at: source.createdAt,
    updated_at: source.updatedAt,
  };
}
