import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  scripts: Record<string, string>;
};

/** The script files a command runs: its words that are relative paths to .js/.ts files. */
function filesRun(command: string): string[] {
  return command.split(/\s+/).filter((word) => /^[\w.-]+\/[\w./-]+\.(?:[cm]?[jt]s)$/.test(word));
}

describe('package.json scripts', () => {
  // `npm run bench` once pointed at a file that did not exist: every file a script runs must be there.
  it.each(Object.entries(pkg.scripts))('%s runs files that exist', (_name, command) => {
    for (const file of filesRun(command))
      expect(existsSync(new URL(file, root)), `${file} is missing`).toBe(true);
  });

  it('recognises the files the scripts run (the check above is not vacuous)', () => {
    expect(filesRun(pkg.scripts.bench!)).toEqual(['bench/run-all.ts']);
    expect(filesRun(pkg.scripts.start!)).toEqual(['bin/patchbay.js']);
  });
});
