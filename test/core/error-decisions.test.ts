import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorDecisions, PatchbayError } from '../../src/core/errors.js';
import { classifyError } from '../../src/resilience/classification.js';
import { sourceFiles } from '../helpers/source-files.js';

const ROOT = join(import.meta.dirname, '../..');
const DECISIONS: (keyof ErrorDecisions)[] = [
  'classification',
  'fromUpstream',
  'notSent',
  'oauthError',
  'keyCanBeGenerated',
];

describe('error decisions are typed fields, not a bag', () => {
  it('does not compile a decision put in data', () => {
    const error = new PatchbayError(ErrorCode.HTTP_CLIENT_ERROR, 'refused', {
      // @ts-expect-error a decision in `data` would be read by nobody: it is a typed field
      data: { classification: 'transient' },
    });
    // Where it belongs, it decides.
    const typed = new PatchbayError(ErrorCode.HTTP_CLIENT_ERROR, 'refused', { classification: 'transient' });
    expect(classifyError(typed)).toBe('transient');
    expect(classifyError(error)).toBe('permanent');
  });

  it('reads no decision out of data anywhere in the code or the test fixtures', () => {
    const read = new RegExp(`\\bdata\\??\\.(${DECISIONS.join('|')}|transient|source|generate)\\b`);
    const offending = [
      ...sourceFiles(join(ROOT, 'src')),
      ...sourceFiles(join(ROOT, 'test/fixtures')),
    ].flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => read.test(line))
        .map((line) => `${relative(ROOT, file)}: ${line.trim()}`),
    );
    expect(offending).toEqual([]);
  });

  it('knows every code the code raises: HANDLER_ERROR is an ErrorCode', () => {
    expect(ErrorCode.HANDLER_ERROR).toBe('HANDLER_ERROR');
    const quoted = sourceFiles(join(ROOT, 'src'))
      .filter((file) => !file.endsWith(join('core', 'errors.ts')))
      .filter((file) => /['"]HANDLER_ERROR['"]/.test(readFileSync(file, 'utf8')));
    expect(quoted.map((file) => relative(ROOT, file))).toEqual([]);
  });
});
