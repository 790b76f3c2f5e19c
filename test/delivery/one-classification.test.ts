import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DELIVERY = join(import.meta.dirname, '../../src/webhooks/delivery');

/** A comparison of an HTTP status with a literal (`status >= 500`, `statusCode === 429`). */
const STATUS_TEST = /\b(status|statusCode)\w*\s*(===|!==|>=|<=|<|>)\s*[1-5]\d\d\b/;

describe('deliveries classify once', () => {
  it('keep no status list of their own: what an answer means is resilience/classification.ts', () => {
    const offending = readdirSync(DELIVERY)
      .filter((name) => name.endsWith('.ts'))
      .flatMap((name) =>
        readFileSync(join(DELIVERY, name), 'utf8')
          .split('\n')
          .filter((line) => STATUS_TEST.test(line))
          .map((line) => `${name}: ${line.trim()}`),
      );
    expect(offending).toEqual([]);
  });
});
