import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { SourceStore, type StoredSource } from '../../src/store/source-store.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

const T0 = 1_767_225_600_000;

/** Every key of an object, at any depth of plain objects: none may be snake_case. */
function snakeKeys(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(key.includes('_') ? [key] : []),
    ...snakeKeys(inner),
  ]);
}

/** The connection, OAuth state, encryption key and source stores hand out domain objects, on every dialect. */
for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`connection and source stores on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await migratedDatabase(dialect);
      database = opened.database;
      cleanup = opened.cleanup;
    });
    afterAll(async () => cleanup?.());

    describe('SourceStore', () => {
      const source: StoredSource = {
        id: 'src-1',
        definition: JSON.stringify({ id: 'src-1', verify: { scheme: 'hmac', header: 'x-sig' } }),
        secrets: 'v1:k1:ciphertext',
        createdAt: T0,
        updatedAt: T0 + 1,
      };

      it('reads back what it wrote, camelCase, times as ms numbers, the JSON text unchanged', async () => {
        const store = new SourceStore(database);
        expect(await store.insert(source)).toBe(true);
        expect(await store.insert({ ...source, secrets: 'other' })).toBe(false);
        const read = await store.get('src-1');
        expect(read).toStrictEqual(source);
        expect(typeof read?.createdAt).toBe('number');
        expect(JSON.parse(read!.definition)).toEqual({
          id: 'src-1',
          verify: { scheme: 'hmac', header: 'x-sig' },
        });
        expect(snakeKeys(read)).toEqual([]);
        expect(await store.list()).toStrictEqual([source]);
      });

      it('updates definition, secrets and updatedAt, and the version moves', async () => {
        const store = new SourceStore(database);
        const before = await store.version();
        expect(
          await store.update('src-1', { definition: '{"id":"src-1"}', secrets: 's2', updatedAt: T0 + 5 }),
        ).toBe(true);
        expect(await store.update('missing', { definition: '{}', secrets: 's', updatedAt: T0 })).toBe(false);
        expect(await store.get('src-1')).toStrictEqual({
          ...source,
          definition: '{"id":"src-1"}',
          secrets: 's2',
          updatedAt: T0 + 5,
        });
        expect(await store.version()).not.toBe(before);
        expect(await store.delete('src-1')).toBe(true);
        expect(await store.get('src-1')).toBeUndefined();
      });
    });
  });
}
