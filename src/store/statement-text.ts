import type { DialectName } from './database.js';

const texts = new Map<string, string>();

/**
 * The text of a hot statement whose shape depends only on a row count (a VALUES list, an IN list),
 * built once per (statement, dialect, count) and then reused as is — the query builder rebuilt and
 * recompiled it on every call, which cost more than running it. `mark(n)` is the n-th parameter's
 * placeholder (1-based): `?` for SQLite, `$n` for PostgreSQL.
 */
export function statementText(
  name: string,
  dialect: DialectName,
  rows: number,
  build: (mark: (n: number) => string) => string,
): string {
  const key = `${name}:${dialect}:${rows}`;
  let text = texts.get(key);
  if (text === undefined) {
    text = build(dialect === 'postgres' ? (n) => `$${n}` : () => '?');
    texts.set(key, text);
  }
  return text;
}

/** `(…), (…)`: `rows` tuples of `columns` placeholders, numbered from `first`. */
export function tuples(mark: (n: number) => string, rows: number, columns: number, first = 1): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const marks: string[] = [];
    for (let c = 0; c < columns; c++) marks.push(mark(first + r * columns + c));
    out.push(`(${marks.join(', ')})`);
  }
  return out.join(', ');
}
