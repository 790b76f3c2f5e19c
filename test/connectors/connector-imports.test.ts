import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../helpers/source-files.js';

const SRC = join(import.meta.dirname, '../../src');

/** A static import of one provider's folder (`../connectors/msgraph/…`), type-only ones aside. */
const PROVIDER_IMPORT = /^import (?!type )[^;]*from '(?:\.\.\/)+connectors\/[a-z]+\//m;

describe('connectors plug into the engine', () => {
  it('the engine and the server import no provider folder: connectors come through the registry', () => {
    const offending = ['engine', 'server']
      .flatMap((dir) => sourceFiles(join(SRC, dir)))
      .filter((path) => PROVIDER_IMPORT.test(readFileSync(path, 'utf8')))
      .map((path) => relative(SRC, path));
    expect(offending).toEqual([]);
  });
});
