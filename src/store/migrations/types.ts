import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/** A schema change. Names sort in the order they run; never edit one that has shipped. */
export interface Migration {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

/** Raw bytes: BLOB on SQLite, BYTEA on PostgreSQL. */
export function binaryType(dialect: DialectName): 'blob' | 'bytea' {
  return dialect === 'sqlite' ? 'blob' : 'bytea';
}
