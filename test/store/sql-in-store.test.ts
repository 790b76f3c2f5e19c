import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeliveryStore } from '../../src/store/delivery-store.js';
import { sourceFiles } from '../helpers/source-files.js';

const SRC = join(import.meta.dirname, '../../src');

/** What building or running a statement looks like, with Kysely or by hand. */
const SQL =
  /\.(selectFrom|updateTable|deleteFrom|insertInto)\(|\bsql`|CompiledQuery|from 'kysely'|\btx\.db\b/;

/** An import, from a module under store/, of a name ending in `Table` (a row type) or `Row` (an alias of one). */
const ROW_TYPE_IMPORT = /import\s+(?:type\s+)?\{[^}]*\b\w+(?:Table|Row)\b[^}]*\}\s*from\s*'[./]*\/store\//;

describe('the store owns its SQL', () => {
  it('has no statement outside src/store/', () => {
    const outside = sourceFiles(SRC)
      .filter((path) => !relative(SRC, path).startsWith('store/'))
      .filter((path) => SQL.test(readFileSync(path, 'utf8')))
      .map((path) => relative(SRC, path));
    expect(outside).toEqual([]);
  });

  it('keeps row types (`*Table`, and `*Row` aliases of them) inside src/store/: the rest sees domain objects', () => {
    const outside = sourceFiles(SRC)
      .filter((path) => !relative(SRC, path).startsWith('store/'))
      .filter((path) => ROW_TYPE_IMPORT.test(readFileSync(path, 'utf8')))
      .map((path) => relative(SRC, path));
    expect(outside).toEqual([]);
  });

  it('the row-type guard catches an import of a table type, alone or among others, type-only or not', () => {
    expect(ROW_TYPE_IMPORT.test("import type { SourcesTable } from '../store/schema.js';")).toBe(true);
    expect(
      ROW_TYPE_IMPORT.test(
        "import { type ConnectionStatus,\n  ConnectionsTable } from '../../store/schema.js';",
      ),
    ).toBe(true);
    expect(ROW_TYPE_IMPORT.test("import type { ConnectionRow } from '../store/connection-store.js';")).toBe(
      true,
    );
    expect(ROW_TYPE_IMPORT.test("import type { ConnectionStatus } from '../store/schema.js';")).toBe(false);
    expect(ROW_TYPE_IMPORT.test("import type { StoredSource } from '../store/source-store.js';")).toBe(false);
  });

  it('offers no database handle from the delivery store (services built SQL through it)', () => {
    expect(Object.getOwnPropertyNames(DeliveryStore.prototype)).not.toContain('db');
  });
});
