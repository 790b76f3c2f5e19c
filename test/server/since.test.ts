import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/core/api/pagination.js';

describe('parseSince', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');

  it('reads an ISO date-time, epoch milliseconds, or a duration before now', () => {
    expect(parseSince('2026-11-28T12:00:00Z', now)).toBe(now - 86_400_000);
    expect(parseSince('2026-11-28', now)).toBe(Date.parse('2026-11-28'));
    expect(parseSince(String(now - 5), now)).toBe(now - 5);
    expect(parseSince('2h', now)).toBe(now - 7_200_000);
    expect(parseSince('7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseSince('1h30m', now)).toBe(now - 5_400_000);
    expect(parseSince(undefined, now)).toBeUndefined();
    expect(parseSince('', now)).toBeUndefined();
  });

  it('refuses anything else, naming the accepted forms', () => {
    for (const bad of ['yesterday', '-2h', '2 hours', '2h ago', 'h', '1e3', 'NaN']) {
      expect(() => parseSince(bad, now), bad).toThrow(
        /since must be an ISO date-time, epoch milliseconds or a duration ago \(2h, 7d\), got/,
      );
    }
  });
});
