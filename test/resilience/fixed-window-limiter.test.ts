import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { calendarDay } from '../../src/resilience/calendar-day.js';
import { FixedWindowLimiter } from '../../src/resilience/fixed-window-limiter.js';
import { DAY_MS } from '../../src/resilience/quota-headers.js';
import { MemoryRateLimitStore } from '../../src/resilience/rate-limit-store.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { track, untilSleeping } from './helpers.js';
import { backends, type StoreBackend } from './store-backends.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('calendar day', () => {
  it('starts and ends at midnight in the named zone', () => {
    const now = Date.parse('2026-03-10T15:30:00Z');
    expect(calendarDay(now, 'UTC')).toEqual({
      start: Date.parse('2026-03-10T00:00:00Z'),
      end: Date.parse('2026-03-11T00:00:00Z'),
    });
    // 15:30 UTC is 11:30 in New York (EDT since 8 March): the day began at 04:00 UTC.
    const ny = calendarDay(now, 'America/New_York');
    expect([iso(ny.start), iso(ny.end)]).toEqual(['2026-03-10T04:00:00.000Z', '2026-03-11T04:00:00.000Z']);
    // Just after midnight in Tokyo, still the previous day in UTC.
    const tokyo = calendarDay(Date.parse('2026-03-10T15:30:00Z'), 'Asia/Tokyo');
    expect([iso(tokyo.start), iso(tokyo.end)]).toEqual([
      '2026-03-10T15:00:00.000Z',
      '2026-03-11T15:00:00.000Z',
    ]);
  });

  it('is 23 or 25 hours long on a daylight saving change', () => {
    const spring = calendarDay(Date.parse('2026-03-08T12:00:00Z'), 'America/New_York');
    expect(spring.end - spring.start).toBe(23 * 3_600_000);
    expect(iso(spring.start)).toBe('2026-03-08T05:00:00.000Z');
    const autumn = calendarDay(Date.parse('2026-11-01T12:00:00Z'), 'America/New_York');
    expect(autumn.end - autumn.start).toBe(25 * 3_600_000);
    expect(iso(autumn.end)).toBe('2026-11-02T05:00:00.000Z');
  });
});

describe('fixed-window limiter', () => {
  it('refuses an unknown time zone, naming the option', () => {
    expect(() => new FixedWindowLimiter({ limit: 1, window: 'day', timeZone: 'Mars/Olympus' })).toThrow(
      /rateLimit\.timeZone must be an IANA time zone name .*"Mars\/Olympus"/,
    );
    expect(() => new FixedWindowLimiter({ limit: 1, window: 'week' as never })).toThrow(/rateLimit\.window/);
  });

  it('waits for the next window once the count is spent, not for a refill', async () => {
    const clock = new FakeClock(Date.parse('2026-05-01T23:59:58Z'));
    const limiter = new FixedWindowLimiter({ limit: 3, window: 'day', clock });
    for (let i = 0; i < 3; i++) await limiter.acquire();
    const fourth = track(limiter.acquire());
    await untilSleeping(clock);
    await clock.advance(1999);
    expect(fourth.settled()).toBe(false);
    await clock.advance(1);
    expect((await fourth.result).remaining).toBe(2);
  });

  it('follows the provider when it counts less left than we do, and ignores other windows', async () => {
    const clock = new FakeClock(Date.parse('2026-05-01T08:00:00Z'));
    const limiter = new FixedWindowLimiter({ limit: 1000, window: 'day', clock });
    await limiter.acquire();
    await limiter.observe({ status: 200, quotas: [{ remaining: 50, windowMs: 10_000 }] });
    expect((await limiter.acquire()).remaining).toBe(998);
    await limiter.observe({ status: 200, quotas: [{ remaining: 2, windowMs: DAY_MS, limit: 1000 }] });
    await limiter.acquire();
    await limiter.acquire();
    await expect(limiter.acquire({ deadline: clock.now() + 1000 })).rejects.toMatchObject({
      code: ErrorCode.RATE_LIMITED,
    });
  });

  it('stops every call until the reset after a 429 that names it', async () => {
    const clock = new FakeClock(Date.parse('2026-05-01T20:00:00Z'));
    const limiter = new FixedWindowLimiter({ limit: 1000, window: 'day', clock });
    const untilMidnight = Date.parse('2026-05-02T00:00:00Z') - clock.now();
    await limiter.observe({ status: 429, retryAfterMs: untilMidnight });
    await expect(limiter.acquire({ deadline: clock.now() + 120_000 })).rejects.toMatchObject({
      code: ErrorCode.RATE_LIMITED,
      retryAfterMs: untilMidnight,
    });
    await clock.advance(untilMidnight);
    expect((await limiter.acquire()).remaining).toBe(999);
  });

  it('takes its slots from the store in blocks, never more than the count, one at a time near the end', async () => {
    const clock = new FakeClock(Date.parse('2026-05-01T10:00:00Z'));
    const store = new CountingStore();
    const [a, b] = [0, 1].map(
      () => new FixedWindowLimiter({ limit: 25, window: 'day', reserve: 10, clock, store, name: 'd' }),
    );
    const granted = { a: 0, b: 0 };
    const refused = { a: 0, b: 0 };
    // b asks first, then a twice, and so on: 10 calls from b, 20 from a.
    for (let i = 0; i < 30; i++) {
      const which = i % 3 === 0 ? 'b' : 'a';
      try {
        await (which === 'b' ? b! : a!).acquire({ deadline: clock.now() + 1000 });
        granted[which]++;
      } catch (error) {
        expect(error).toMatchObject({ code: ErrorCode.RATE_LIMITED });
        refused[which]++;
      }
    }
    // b takes a block of 10 and hands it all out; a takes 10, then the store has 5 left: one at a time.
    expect(granted).toEqual({ a: 15, b: 10 });
    expect(refused).toEqual({ a: 5, b: 0 });
    // b: 1 block; a: 1 block, 5 single slots, 5 refusals — instead of 30 store calls.
    expect(store.gcraCalls).toBe(12);
  });

  it('hands out no more of its block once the provider counts fewer left than it holds', async () => {
    const clock = new FakeClock(Date.parse('2026-05-01T10:00:00Z'));
    const store = new CountingStore();
    const limiter = new FixedWindowLimiter({
      limit: 1000,
      window: 'day',
      reserve: 100,
      clock,
      store,
      name: 'd',
    });
    await limiter.acquire();
    await limiter.observe({ status: 200, quotas: [{ remaining: 500, windowMs: DAY_MS }] });
    await limiter.acquire();
    expect(store.gcraCalls).toBe(1);
    // Another app of the account spent nearly all of it: the 99 set aside are not there any more.
    await limiter.observe({ status: 200, quotas: [{ remaining: 3, windowMs: DAY_MS }] });
    for (let i = 0; i < 3; i++) await limiter.acquire();
    await expect(limiter.acquire({ deadline: clock.now() + 1000 })).rejects.toMatchObject({
      code: ErrorCode.RATE_LIMITED,
    });
  });

  it('drops its block at a 429 that names a wait', async () => {
    const clock = new FakeClock(Date.parse('2026-05-01T10:00:00Z'));
    const limiter = new FixedWindowLimiter({ limit: 1000, window: 'day', reserve: 100, clock, name: 'd' });
    await limiter.acquire();
    const untilMidnight = calendarDay(clock.now(), 'UTC').end - clock.now();
    await limiter.observe({ status: 429, retryAfterMs: untilMidnight });
    await expect(limiter.acquire({ deadline: clock.now() + 1000 })).rejects.toMatchObject({
      code: ErrorCode.RATE_LIMITED,
    });
  });

  describe.each(backends)('shared through $name', (backend) => {
    let opened: StoreBackend | undefined;
    afterAll(async () => {
      await opened?.cleanup();
    });

    it.skipIf(!backend.available)('two processes together never exceed the window', async () => {
      opened = await backend.open();
      const clock = new FakeClock(Date.parse('2026-05-01T10:00:00Z'));
      const name = `daily-${Math.random().toString(36).slice(2)}`;
      const [a, b] = opened.rateLimits.map(
        (store) =>
          new FixedWindowLimiter({ limit: 5, window: 'day', timeZone: 'Europe/Berlin', clock, store, name }),
      );
      const granted: number[] = [];
      for (let i = 0; i < 6; i++) {
        const limiter = i % 2 === 0 ? a! : b!;
        try {
          await limiter.acquire({ deadline: clock.now() + 1000 });
          granted.push(i);
        } catch (error) {
          expect(error).toMatchObject({ code: ErrorCode.RATE_LIMITED });
        }
      }
      expect(granted).toHaveLength(5);
      // Berlin's midnight (22:00 UTC in May) opens a new window for both.
      await clock.set(Date.parse('2026-05-01T22:00:00Z'));
      expect((await b!.acquire()).remaining).toBe(4);
    });
  });
});

class CountingStore extends MemoryRateLimitStore {
  gcraCalls = 0;
  override acquireGcra(...args: Parameters<MemoryRateLimitStore['acquireGcra']>) {
    this.gcraCalls++;
    return super.acquireGcra(...args);
  }
}
