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
