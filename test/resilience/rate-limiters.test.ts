import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { ConcurrencyLimiter } from '../../src/resilience/concurrency-limiter.js';
import { MemoryRateLimitStore } from '../../src/resilience/rate-limit-store.js';
import { RollingWindowLimiter } from '../../src/resilience/rolling-window-limiter.js';
import { TokenBucketLimiter } from '../../src/resilience/token-bucket-limiter.js';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';
import { track, untilSleeping } from './helpers.js';

/** Largest number of timestamps inside any half-open window (t − w, t]. */
function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[start]! <= sorted[end]! - windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe('rolling-window limiter', () => {
  it('never lets more than N start in any window, whatever the arrival pattern', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 10, max: 500 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 40 }),
        async (limit, windowMs, gaps) => {
          const clock = new FakeClock(0);
          const limiter = new RollingWindowLimiter({ limit, windowMs, safetyMarginMs: 0, clock });
          const starts: number[] = [];
          const calls: Promise<void>[] = [];
          for (const gap of gaps) {
            await clock.advance(gap);
            calls.push(limiter.acquire().then(() => void starts.push(clock.now())));
          }
          while (starts.length < gaps.length) {
            await flushMicrotasks(3);
            if (!(await clock.runNext())) await flushMicrotasks();
          }
          await Promise.all(calls);
          return maxInAnyWindow(starts, windowMs) <= limit;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('makes a request wait for the oldest slot to leave the window instead of failing', async () => {
    const clock = new FakeClock(0);
    const limiter = new RollingWindowLimiter({ limit: 2, windowMs: 1000, safetyMarginMs: 0, clock });
    await limiter.acquire();
    await clock.advance(300);
    await limiter.acquire();
    const third = track(limiter.acquire());
    await untilSleeping(clock);
    expect(clock.nextWake).toBe(1000); // the slot taken at 0 leaves at 1000
    await clock.advance(700);
    const permit = await third.result;
    expect(permit.waitedMs).toBe(700);
    expect(permit.remaining).toBe(0);
  });

  it('adds the safety margin to the window', async () => {
    const clock = new FakeClock(0);
    const limiter = new RollingWindowLimiter({ limit: 1, windowMs: 1000, safetyMarginMs: 50, clock });
    await limiter.acquire();
    const next = track(limiter.acquire());
    await untilSleeping(clock);
    expect(clock.nextWake).toBe(1050);
    await clock.advance(1050);
    await next.result;
    expect(new RollingWindowLimiter({ limit: 100, windowMs: 10_000 }).safetyMarginMs).toBe(100);
    expect(new RollingWindowLimiter({ limit: 20, windowMs: 1000 }).safetyMarginMs).toBe(20);
  });

  it('serves waiters first come, first served', async () => {
    const clock = new FakeClock(0);
    const limiter = new RollingWindowLimiter({ limit: 1, windowMs: 100, safetyMarginMs: 0, clock });
    const order: number[] = [];
    const waits = [1, 2, 3, 4].map((n) => limiter.acquire().then(() => void order.push(n)));
    for (let i = 0; i < 4; i++) {
      await flushMicrotasks();
      await clock.runNext();
    }
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('fails with RATE_LIMITED when no slot comes before the deadline', async () => {
    const clock = new FakeClock(0);
    const limiter = new RollingWindowLimiter({ limit: 1, windowMs: 10_000, safetyMarginMs: 0, clock });
    await limiter.acquire();
    const error = await limiter.acquire({ deadline: 5000 }).catch((e) => e);
    expect(error).toMatchObject({
      code: ErrorCode.RATE_LIMITED,
      retryAfterMs: 10_000,
      classification: 'permanent',
      data: { limiter: 'default' },
    });
    expect(error.fromUpstream).toBeUndefined();
    expect(clock.pending).toBe(0);
  });

  it('lets a waiter leave the line when its signal aborts', async () => {
    const clock = new FakeClock(0);
    const limiter = new RollingWindowLimiter({ limit: 1, windowMs: 10_000, clock });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = track(limiter.acquire({ signal: controller.signal }));
    const behind = track(limiter.acquire({ signal: controller.signal }));
    await untilSleeping(clock);
    controller.abort();
    await expect(waiting.result).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    await expect(behind.result).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });

  it('slows down when the provider says less is left than we counted', async () => {
    const clock = new FakeClock(0);
    const limiter = new RollingWindowLimiter({ limit: 10, windowMs: 1000, safetyMarginMs: 0, clock });
    const first = await limiter.acquire();
    expect(first.remaining).toBe(9);
    // Another client shares the quota: the provider has 2 left, not 9.
    await limiter.observe({ status: 200, quotas: [{ remaining: 2, windowMs: 1000, limit: 10 }] });
    await limiter.acquire();
    await limiter.acquire();
    const fourth = track(limiter.acquire());
    await untilSleeping(clock);
    expect(fourth.settled()).toBe(false);
    // A quota over another window (a daily count) is ignored.
    await limiter.observe({ quotas: [{ remaining: 0, windowMs: 86_400_000 }] });
    await clock.advance(1000);
    await fourth.result;
  });

  it('writes nothing to the store when the provider has as many left as it counted at the grant', async () => {
    const clock = new FakeClock(0);
    let reduces = 0;
    const store = new (class extends MemoryRateLimitStore {
      override reduceWindow(...args: Parameters<MemoryRateLimitStore['reduceWindow']>) {
        reduces++;
        return super.reduceWindow(...args);
      }
    })();
    const limiter = new RollingWindowLimiter({ limit: 10, windowMs: 1000, safetyMarginMs: 0, clock, store });
    const permit = await limiter.acquire();
    await limiter.observe({
      status: 200,
      quotas: [{ remaining: 9, windowMs: 1000 }],
      remainingAtGrant: permit.remaining,
    });
    expect(reduces).toBe(0);
    await limiter.observe({
      status: 200,
      quotas: [{ remaining: 4, windowMs: 1000 }],
      remainingAtGrant: permit.remaining,
    });
    expect(reduces).toBe(1);
    expect((await limiter.acquire()).remaining).toBe(3);
  });

  it("blocks until a 429's Retry-After has passed", async () => {
    const clock = new FakeClock(0);
    const limiter = new RollingWindowLimiter({ limit: 100, windowMs: 1000, clock });
    await limiter.observe({ status: 429, retryAfterMs: 3000 });
    const next = track(limiter.acquire());
    await untilSleeping(clock);
    expect(clock.nextWake).toBe(3000);
    await clock.advance(3000);
    await next.result;
  });

  it('blocks until the reset when the provider says nothing is left', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketLimiter({ rate: 5000, periodMs: 3_600_000, burst: 100, clock });
    await limiter.observe({ status: 200, quotas: [{ remaining: 0, resetAt: 60_000 }] });
    const next = track(limiter.acquire());
    await untilSleeping(clock);
    expect(clock.nextWake).toBe(60_000);
    expect(next.settled()).toBe(false);
  });

  it('shares one limit between limiters on the same store and name', async () => {
    const clock = new FakeClock(0);
    const store = new MemoryRateLimitStore();
    const a = new RollingWindowLimiter({
      name: 'hubspot',
      limit: 3,
      windowMs: 1000,
      safetyMarginMs: 0,
      store,
      clock,
    });
    const b = new RollingWindowLimiter({
      name: 'hubspot',
      limit: 3,
      windowMs: 1000,
      safetyMarginMs: 0,
      store,
      clock,
    });
    await a.acquire();
    await b.acquire();
    await a.acquire();
    await expect(b.acquire({ deadline: 999 })).rejects.toMatchObject({ code: ErrorCode.RATE_LIMITED });
  });

  it('refuses a cost above the limit and bad options, naming them', async () => {
    const limiter = new RollingWindowLimiter({ limit: 3, windowMs: 1000 });
    await expect(limiter.acquire({ cost: 4 })).rejects.toThrow(
      /cost must be an integer from 1 to 3 \(got 4\)/,
    );
    expect(() => new RollingWindowLimiter({ limit: 0, windowMs: 1000 })).toThrow(/rateLimit\.limit/);
    expect(() => new RollingWindowLimiter({ limit: 1, windowMs: Number.NaN })).toThrow(/rateLimit\.windowMs/);
  });

  it('fails with STORE_UNAVAILABLE when the shared store is down, or uses the fallback store', async () => {
    const broken = new MemoryRateLimitStore();
    broken.acquireWindow = () => Promise.reject(new Error('ECONNREFUSED'));
    const strict = new RollingWindowLimiter({ limit: 1, windowMs: 1000, store: broken });
    await expect(strict.acquire()).rejects.toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE });
    const errors: unknown[] = [];
    const lenient = new RollingWindowLimiter({
      limit: 1,
      windowMs: 1000,
      store: broken,
      fallbackStore: new MemoryRateLimitStore(),
      onStoreError: (e) => errors.push(e),
    });
    await expect(lenient.acquire()).resolves.toMatchObject({ remaining: 0 });
    expect(errors).toHaveLength(1);
  });
});

describe('token bucket (GCRA)', () => {
  it('allows a burst, then one request per interval', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketLimiter({ rate: 10, periodMs: 1000, burst: 3, clock });
    const remaining = [];
    for (let i = 0; i < 3; i++) remaining.push((await limiter.acquire()).remaining);
    expect(remaining).toEqual([2, 1, 0]);
    const fourth = track(limiter.acquire());
    await untilSleeping(clock);
    expect(clock.nextWake).toBe(100);
    await clock.advance(100);
    await fourth.result;
  });

  it('keeps the long-run rate at most rate per period', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketLimiter({ rate: 20, periodMs: 1000, burst: 5, clock });
    let granted = 0;
    const loop = (async () => {
      for (;;) {
        await limiter.acquire({ deadline: 10_000 }).catch(() => {
          throw new Error('stop');
        });
        granted++;
      }
    })().catch(() => {});
    while (clock.now() < 10_000) {
      await flushMicrotasks(3);
      if (!(await clock.runNext())) break;
    }
    await loop;
    // burst + rate × 10 s
    expect(granted).toBeLessThanOrEqual(5 + 200);
    expect(granted).toBeGreaterThanOrEqual(200);
  });
});

describe('concurrency limiter', () => {
  it('caps calls in flight and hands a released slot to the next waiter at once', async () => {
    const clock = new FakeClock(0);
    const limiter = new ConcurrencyLimiter({ limit: 2, clock });
    const a = await limiter.acquire();
    await limiter.acquire();
    const third = track(limiter.acquire());
    await untilSleeping(clock);
    expect(third.settled()).toBe(false);
    a.release();
    a.release(); // twice is harmless
    await flushMicrotasks();
    expect(third.settled()).toBe(true);
    expect(clock.now()).toBe(0);
  });

  it('frees a slot whose holder never released it after leaseMs', async () => {
    const clock = new FakeClock(0);
    const limiter = new ConcurrencyLimiter({ limit: 1, leaseMs: 5000, pollIntervalMs: 1000, clock });
    await limiter.acquire(); // holder "dies"
    const next = track(limiter.acquire());
    for (let i = 0; i < 5; i++) {
      await untilSleeping(clock);
      await clock.runNext();
    }
    await next.result;
    expect(clock.now()).toBe(5000);
  });
});
