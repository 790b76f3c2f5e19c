import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src/sync/read-ahead.js';

describe('readAhead', () => {
  it('asks for the next page before the one in hand is done with, never two ahead', async () => {
    const log: string[] = [];
    async function* pages() {
      for (let i = 1; i <= 3; i++) {
        log.push(`fetch ${i}`);
        yield i;
      }
    }
    for await (const page of readAhead(pages())) {
      await new Promise((r) => setTimeout(r, 5));
      log.push(`commit ${page}`);
    }
    expect(log).toEqual(['fetch 1', 'fetch 2', 'commit 1', 'fetch 3', 'commit 2', 'commit 3']);
  });

  it('closes the source when the consumer stops, and reports a fetch failure in order', async () => {
    let closed = false;
    async function* pages() {
      try {
        yield 1;
        yield 2;
        throw new Error('page 3 failed');
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const page of readAhead(pages())) seen.push(page);
      })(),
    ).rejects.toThrow('page 3 failed');
    expect(seen).toEqual([1, 2]);
    expect(closed).toBe(true);

    closed = false;
    for await (const page of readAhead(pages())) {
      if (page === 1) break;
    }
    expect(closed).toBe(true);
  });
});
