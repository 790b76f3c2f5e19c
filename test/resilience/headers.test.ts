import { describe, expect, it } from 'vitest';
import { DAY_MS, parseQuotaHeaders } from '../../src/resilience/quota-headers.js';
import { parseRetryAfter, retryDelayFromHeaders } from '../../src/resilience/retry-after.js';

const now = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('Retry-After and provider headers', () => {
  it('reads delay-seconds, including Graph-style fractions, rounding up', () => {
    expect(parseRetryAfter('10', now)).toBe(10_000);
    expect(parseRetryAfter(' 2.128 ', now)).toBe(2128);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads an HTTP-date relative to now and never returns a negative wait', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores junk', () => {
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('12abc', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it("takes OpenAI's retry-after-ms before Retry-After, refusing anything but a number", () => {
    expect(retryDelayFromHeaders({ 'retry-after-ms': '644.2', 'retry-after': '1' }, now)).toBe(645);
    expect(retryDelayFromHeaders({ 'retry-after-ms': 'soon', 'retry-after': '1' }, now)).toBe(1000);
    expect(retryDelayFromHeaders({ 'retry-after-ms': '-5' }, now)).toBeUndefined();
  });

  it('prefers Retry-After, then GitHub reset, then HubSpot interval', () => {
    const reset = String(now / 1000 + 42);
    expect(
      retryDelayFromHeaders(
        { 'retry-after': '3', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
        now,
      ),
    ).toBe(3000);
    expect(retryDelayFromHeaders({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }, now)).toBe(
      42_000,
    );
    expect(
      retryDelayFromHeaders({ 'x-ratelimit-remaining': '5', 'x-ratelimit-reset': reset }, now),
    ).toBeUndefined();
    expect(
      retryDelayFromHeaders(
        { 'x-hubspot-ratelimit-remaining': '0', 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
        now,
      ),
    ).toBe(10_000);
    expect(retryDelayFromHeaders({ 'ratelimit-remaining': '0', 'ratelimit-reset': '7' }, now)).toBe(7000);
    expect(retryDelayFromHeaders({}, now)).toBeUndefined();
  });

  it('parses remaining quota from HubSpot, GitHub and IETF headers', () => {
    expect(
      parseQuotaHeaders(
        {
          'x-hubspot-ratelimit-remaining': '42',
          'x-hubspot-ratelimit-max': '100',
          'x-hubspot-ratelimit-interval-milliseconds': '10000',
        },
        now,
      ),
    ).toEqual([{ remaining: 42, limit: 100, windowMs: 10_000 }]);
    expect(
      parseQuotaHeaders(
        {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-limit': '5000',
          'x-ratelimit-reset': String(now / 1000 + 60),
        },
        now,
      ),
    ).toEqual([{ remaining: 0, limit: 5000, resetAt: now + 60_000 }]);
    expect(parseQuotaHeaders({ 'ratelimit-remaining': '3', 'ratelimit-reset': '2' }, now)).toEqual([
      { remaining: 3, resetAt: now + 2000 },
    ]);
    expect(parseQuotaHeaders({ 'x-ratelimit-remaining': 'lots' }, now)).toEqual([]);
  });

  it("reads HubSpot's 10 s and daily counts as two quotas of one answer", () => {
    expect(
      parseQuotaHeaders(
        {
          'x-hubspot-ratelimit-remaining': '97',
          'x-hubspot-ratelimit-max': '100',
          'x-hubspot-ratelimit-interval-milliseconds': '10000',
          'x-hubspot-ratelimit-daily': '250000',
          'x-hubspot-ratelimit-daily-remaining': '1203',
        },
        now,
      ),
    ).toEqual([
      { remaining: 97, limit: 100, windowMs: 10_000 },
      { remaining: 1203, limit: 250_000, windowMs: DAY_MS },
    ]);
  });
});
