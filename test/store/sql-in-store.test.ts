import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeliveryStore } from '../../src/store/delivery-store.js';
import { sourceFiles } from '../helpers/source-files.js';

const SRC = join(import.meta.dirname, '../../src');

/** What building or running a statement looks like, with Kysely or by hand. */
const SQL =
  /\.(selectFrom|updateTable|deleteFrom|insertInto)\(|\bsql`|CompiledQuery|from 'kysely'|\btx\.db\b/;

describe('the store owns its SQL', () => {
  it('has no statement outside src/store/', () => {
    const outside = sourceFiles(SRC)
      .filter((path) => !relative(SRC, path).startsWith('store/'))
      .filter((path) => SQL.test(readFileSync(path, 'utf8')))
      .map((path) => relative(SRC, path));
    expect(outside).toEqual([]);
  });

  it('offers no database handle from the delivery store (services built SQL through it)', () => {
    expect(Object.getOwnPropertyNames(DeliveryStore.prototype)).not.toContain('db');
  });
});
