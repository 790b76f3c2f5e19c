import { CompiledQuery } from 'kysely';
import type { Database } from './database.js';
import type { SourcesTable } from './schema.js';

export type SourceRow = SourcesTable;

/** Webhook sources made through the admin API, as rows (the vault encrypts the secrets column). */
export class SourceStore {
  constructor(private readonly database: Database) {}

  /** Inserts unless the id is taken; returns whether it was inserted. */
  async insert(row: SourceRow): Promise<boolean> {
    const result = await this.database.db
      .insertInto('sources')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async get(id: string): Promise<SourceRow | undefined> {
    return this.database.db.selectFrom('sources').selectAll().where('id', '=', id).executeTakeFirst();
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

  async list(): Promise<SourceRow[]> {
    return this.database.db.selectFrom('sources').selectAll().orderBy('id').execute();
  }

  async update(
    id: string,
    fields: Pick<SourceRow, 'definition' | 'secrets' | 'updated_at'>,
  ): Promise<boolean> {
    const result = await this.database.db
      .updateTable('sources')
      .set(fields)
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
