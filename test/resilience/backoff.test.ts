import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  constantBackoff,
  decorrelatedJitterBackoff,
  exponentialBackoff,
} from '../../src/resilience/backoff.js';

const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('backoff', () => {
  it('full jitter stays within [0, min(cap, base·2^(n−1))] for any retry and random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        unit,
        (base, extra, retry, r) => {
          const cap = base + extra;
          const delay = exponentialBackoff({ baseDelayMs: base, maxDelayMs: cap }).delay(retry, 0, () => r);
          const ceiling = base === 0 ? 0 : Math.min(cap, base * 2 ** (retry - 1));
          return Number.isFinite(delay) && delay >= 0 && delay <= ceiling;
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('full jitter uses the whole range: r→0 gives 0, r→1 approaches the ceiling', () => {
    const b = exponentialBackoff({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect(b.delay(1, 0, () => 0)).toBe(0);
    expect(b.delay(3, 0, () => 0.999_999)).toBeCloseTo(400, 2);
    expect(b.delay(30, 0, () => 0.999_999)).toBeCloseTo(1000, 2);
  });

  it('equal jitter stays within [ceiling/2, ceiling] and no jitter is the ceiling', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), unit, (retry, r) => {
        const ceiling = Math.min(30_000, 200 * 2 ** (retry - 1));
        const equal = exponentialBackoff({ jitter: 'equal' }).delay(retry, 0, () => r);
        const none = exponentialBackoff({ jitter: 'none' }).delay(retry, 0, () => r);
        return equal >= ceiling / 2 && equal <= ceiling && none === ceiling;
      }),
      { numRuns: 10_000 },
    );
  });

  it('decorrelated jitter stays within [base, cap] and at most three times the previous delay', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), unit, (previous, r) => {
        const d = decorrelatedJitterBackoff({ baseDelayMs: 100, maxDelayMs: 20_000 }).delay(
          2,
          previous,
          () => r,
        );
        return d >= 100 && d <= 20_000 && d <= Math.max(100, previous * 3);
      }),
      { numRuns: 10_000 },
    );
  });

  it('rejects bad options, naming them', () => {
    expect(() => exponentialBackoff({ baseDelayMs: -1 })).toThrow(/backoff\.baseDelayMs.*-1/);
    expect(() => exponentialBackoff({ baseDelayMs: 500, maxDelayMs: 100 })).toThrow(/backoff\.maxDelayMs/);
    expect(() => exponentialBackoff({ jitter: 'some' as never })).toThrow(/backoff\.jitter/);
    expect(() => constantBackoff(Number.NaN)).toThrow(/backoff\.delayMs/);
  });
});
