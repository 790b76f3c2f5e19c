import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('package.json scripts', () => {
  // `npm run bench` once pointed at a file that did not exist: every file a script runs must be there.
  it.each(Object.entries(pkg.scripts))('%s runs files that exist', (_name, command) => {
    const files = command.split(/\s+/).filter((word) => /^[\w.-]+\/[\w./-]+\.(?:[cm]?[jt]s)$/.test(word));
    for (const file of files) expect(existsSync(new URL(file, root)), `${file} is missing`).toBe(true);
  });

  it('finds the files in the scripts that run one', () => {
    expect(pkg.scripts.bench).toContain('bench/run-all.ts');
    expect(pkg.scripts.start).toContain('bin/patchbay.js');
  });
});
