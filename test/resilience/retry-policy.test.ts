import { describe, expect, it } from 'vitest';
import { ErrorCode, PatchbayError } from '../../src/core/errors.js';
import { constantBackoff } from '../../src/resilience/backoff.js';
import { tokenRetryBudget } from '../../src/resilience/retry-budget.js';
import { RetryPolicy } from '../../src/resilience/retry-policy.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { track, untilSleeping } from './helpers.js';

const unavailable = (extra: { retryAfterMs?: number } = {}) =>
  new PatchbayError(ErrorCode.HTTP_SERVER_ERROR, 'upstream answered 503', { status: 503, ...extra });
const notFound = () =>
  new PatchbayError(ErrorCode.HTTP_CLIENT_ERROR, 'upstream answered 404', { status: 404 });

function failingThen<T>(failures: unknown[], value: T) {
  let calls = 0;
  const fn = async () => {
    const failure = failures[calls++];
    if (failure !== undefined) throw failure;
    return value;
  };
  return { fn, calls: () => calls };
}

describe('retry policy', () => {
  it('retries transient failures with full-jitter exponential delays, then succeeds', async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({
      maxAttempts: 4,
      baseDelayMs: 100,
      maxDelayMs: 10_000,
      clock,
      random: () => 0.5,
    });
    const { fn, calls } = failingThen([unavailable(), unavailable()], 'ok');
    const run = track(policy.execute(fn));

    await untilSleeping(clock);
    expect(clock.nextWake! - clock.now()).toBe(50); // U(0, 100) with r = 0.5
    await clock.advance(50);
    await untilSleeping(clock);
    expect(clock.nextWake! - clock.now()).toBe(100); // U(0, 200)
    await clock.advance(100);
    await expect(run.result).resolves.toBe('ok');
    expect(calls()).toBe(3);
  });

  it('does not retry a permanent failure', async () => {
    const policy = new RetryPolicy({ clock: new FakeClock() });
    const { fn, calls } = failingThen([notFound()], 'never');
    await expect(policy.execute(fn)).rejects.toMatchObject({
      code: ErrorCode.HTTP_CLIENT_ERROR,
      status: 404,
    });
    expect(calls()).toBe(1);
  });

  it('gives up after maxAttempts with RETRIES_EXHAUSTED carrying the last cause', async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({ maxAttempts: 2, backoff: constantBackoff(10), clock });
    const last = unavailable();
    const { fn, calls } = failingThen([unavailable(), last], 'never');
    const run = track(policy.execute(fn));
    await untilSleeping(clock);
    await clock.advance(10);
    const error = await run.result.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.RETRIES_EXHAUSTED, status: 503, data: { attempts: 2 } });
    expect((error as Error).cause).toBe(last);
    expect(calls()).toBe(2);
  });

  it('says the call never left (notSent) when no attempt did, and only then', async () => {
    const refused = () =>
      new PatchbayError(ErrorCode.NETWORK_ERROR, 'connect ECONNREFUSED', {
        classification: 'transient',
        notSent: true,
      });
    const reset = () =>
      new PatchbayError(ErrorCode.NETWORK_ERROR, 'socket hang up', { classification: 'transient' });
    const giveUp = async (failures: unknown[]) => {
      const clock = new FakeClock();
      const policy = new RetryPolicy({ maxAttempts: failures.length, backoff: constantBackoff(10), clock });
      const run = track(policy.execute(failingThen(failures, 'never').fn));
      for (let i = 1; i < failures.length; i++) {
        await untilSleeping(clock);
        await clock.advance(10);
      }
      return (await run.result.catch((e: unknown) => e)) as PatchbayError;
    };
    const never = await giveUp([refused(), refused(), refused()]);
    expect(never).toMatchObject({ code: ErrorCode.RETRIES_EXHAUSTED, notSent: true });
    // One attempt that may have reached the upstream is enough to keep it unknown, first or last.
    expect((await giveUp([reset(), refused(), refused()])).notSent).toBeUndefined();
    expect((await giveUp([refused(), refused(), reset()])).notSent).toBeUndefined();
    // An open circuit refuses before the call is made; after an attempt that may have left, it is no proof.
    const circuitOpen = () =>
      new PatchbayError(ErrorCode.CIRCUIT_OPEN, 'circuit "x" is open', {
        classification: 'permanent',
        notSent: true,
      });
    expect(await giveUp([refused(), circuitOpen()])).toMatchObject({
      code: ErrorCode.CIRCUIT_OPEN,
      notSent: true,
    });
    const afterReset = await giveUp([reset(), circuitOpen()]);
    expect(afterReset).toMatchObject({
      code: ErrorCode.RETRIES_EXHAUSTED,
      data: { lastCode: ErrorCode.CIRCUIT_OPEN },
    });
    expect(afterReset.notSent).toBeUndefined();
  });

  it("waits for the upstream's Retry-After instead of the computed delay", async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({ baseDelayMs: 100, clock, random: () => 0 });
    const { fn } = failingThen([unavailable({ retryAfterMs: 7000 })], 'ok');
    const run = track(policy.execute(fn));
    await untilSleeping(clock);
    expect(clock.nextWake! - clock.now()).toBe(7000);
    await clock.advance(6999);
    expect(run.settled()).toBe(false);
    await clock.advance(1);
    await expect(run.result).resolves.toBe('ok');
  });

  it('fails at once, with the hint, when Retry-After exceeds maxRetryAfterMs', async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({ maxRetryAfterMs: 5000, clock });
    const { fn, calls } = failingThen([unavailable({ retryAfterMs: 60_000 })], 'ok');
    await expect(policy.execute(fn)).rejects.toMatchObject({
      code: ErrorCode.HTTP_SERVER_ERROR,
      retryAfterMs: 60_000,
    });
    expect(calls()).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('does not start a retry whose delay ends past the overall deadline', async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({
      maxAttempts: 10,
      backoff: constantBackoff(400),
      deadlineMs: 1000,
      clock,
    });
    const failures = Array.from({ length: 10 }, () => unavailable());
    const { fn, calls } = failingThen(failures, 'never');
    const run = track(policy.execute(fn));
    await untilSleeping(clock);
    await clock.advance(400);
    await untilSleeping(clock);
    await clock.advance(400);
    const error = await run.result.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.RETRIES_EXHAUSTED });
    expect((error as Error).message).toMatch(/deadline/);
    expect(calls()).toBe(3);
    expect(clock.now() - Date.UTC(2026, 0, 1)).toBe(800);
  });

  it('ends the sleep between attempts at once when the signal aborts', async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({ backoff: constantBackoff(60_000), clock });
    const controller = new AbortController();
    const { fn, calls } = failingThen([unavailable()], 'ok');
    const run = track(policy.execute(fn, controller.signal));
    await untilSleeping(clock);
    controller.abort();
    await expect(run.result).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    expect(calls()).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('stops retrying when the retry budget is spent, so a failing upstream is not hammered', async () => {
    const clock = new FakeClock();
    // No free retries: only 10% of first attempts may be retried.
    const budget = tokenRetryBudget({ ratio: 0.1, minRetriesPerSecond: 0, clock });
    const policy = new RetryPolicy({ maxAttempts: 5, backoff: constantBackoff(0), budget, clock });
    let attempts = 0;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        policy.execute(async () => {
          attempts++;
          throw unavailable();
        }),
      ),
    );
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    // 50 first attempts + at most 5 retries (10%), instead of 50 × 5 = 250 attempts.
    expect(attempts).toBeLessThanOrEqual(55);
    expect(attempts).toBeGreaterThan(50);
  });

  it('lets the caller veto retrying a request (non-idempotent)', async () => {
    const policy = new RetryPolicy({ clock: new FakeClock() });
    const { fn, calls } = failingThen([unavailable()], 'ok');
    await expect(policy.execute(fn, { isRetryable: () => false })).rejects.toMatchObject({ status: 503 });
    expect(calls()).toBe(1);
  });

  it('numbers attempts and passes the deadline to the function', async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({ backoff: constantBackoff(0), deadlineMs: 5000, clock });
    const seen: [number, number][] = [];
    await policy.execute(async ({ attempt, deadline }) => {
      seen.push([attempt, deadline - clock.now()]);
      if (attempt < 3) throw unavailable();
    });
    expect(seen).toEqual([
      [1, 5000],
      [2, 5000],
      [3, 5000],
    ]);
  });

  it('retries a function that throws synchronously like one that rejects', async () => {
    const policy = new RetryPolicy({ backoff: constantBackoff(0), clock: new FakeClock() });
    let calls = 0;
    const value = await policy.execute(() => {
      if (++calls < 3) throw unavailable();
      return 'ok';
    });
    expect([value, calls]).toEqual(['ok', 3]);
  });

  it('does not start when the signal has already aborted', async () => {
    const policy = new RetryPolicy({ clock: new FakeClock() });
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    await expect(policy.execute(() => ++calls, controller.signal)).rejects.toMatchObject({
      code: ErrorCode.ABORTED,
    });
    expect(calls).toBe(0);
  });

  it('emits retry and give-up events', async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({ maxAttempts: 2, backoff: constantBackoff(0), clock });
    const events: string[] = [];
    policy.onRetry((e) => events.push(`retry ${e.attempt} in ${e.delayMs}`));
    policy.onGiveUp((e) => events.push(`give up after ${e.attempts}: ${e.reason}`));
    await policy.execute(async () => Promise.reject(unavailable())).catch(() => {});
    expect(events).toEqual(['retry 1 in 0', 'give up after 2: attempts']);
  });

  it('validates options eagerly, naming the option and the value', () => {
    expect(() => new RetryPolicy({ maxAttempts: 0 })).toThrow(
      'retry.maxAttempts must be an integer from 1 to 100 (got 0)',
    );
    expect(() => new RetryPolicy({ deadlineMs: -5 })).toThrow(/retry\.deadlineMs.*-5/);
    expect(() => new RetryPolicy({ maxAttempt: 3 } as never)).toThrow(/retry\.maxAttempt is not an option/);
  });
});
