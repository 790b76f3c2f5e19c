import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ErrorCode, PatchbayError } from '../../src/core/errors.js';
import { MemoryBreakerStateStore } from '../../src/resilience/breaker-state-store.js';
import { failureRate, failureRun } from '../../src/resilience/breaker-trip.js';
import { CircuitBreaker } from '../../src/resilience/circuit-breaker.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

const serverError = () => new PatchbayError(ErrorCode.HTTP_SERVER_ERROR, '503', { status: 503 });
const fail = (breaker: CircuitBreaker) =>
  breaker.execute(() => Promise.reject(serverError())).catch((e) => e);
const succeed = (breaker: CircuitBreaker) => breaker.execute(async () => 'ok');

describe('circuit breaker', () => {
  it('opens after five consecutive failures and then refuses calls with CIRCUIT_OPEN', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ name: 'crm', clock, halfOpenAfterMs: 10_000 });
    for (let i = 0; i < 4; i++) await fail(breaker);
    expect(breaker.state).toBe('closed');
    await fail(breaker);
    expect(breaker.state).toBe('open');
    let ran = false;
    const error = await breaker
      .execute(async () => {
        ran = true;
      })
      .catch((e) => e);
    expect(ran).toBe(false);
    expect(error).toMatchObject({
      code: ErrorCode.CIRCUIT_OPEN,
      retryAfterMs: 10_000,
      data: { breaker: 'crm' },
    });
  });

  it('resets the consecutive count on a success', async () => {
    const breaker = new CircuitBreaker({ consecutiveFailures: 3, clock: new FakeClock() });
    await fail(breaker);
    await fail(breaker);
    await succeed(breaker);
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it('does not count 4xx answers, 429s or cancellations as failures', async () => {
    const breaker = new CircuitBreaker({ consecutiveFailures: 2, clock: new FakeClock() });
    const errors = [
      new PatchbayError(ErrorCode.HTTP_CLIENT_ERROR, '404', { status: 404 }),
      new PatchbayError(ErrorCode.RATE_LIMITED, '429', { status: 429 }),
      new PatchbayError(ErrorCode.ABORTED, 'aborted'),
    ];
    for (let round = 0; round < 3; round++) {
      for (const error of errors) await breaker.execute(() => Promise.reject(error)).catch(() => {});
    }
    expect(breaker.state).toBe('closed');
  });

  it('goes half-open after halfOpenAfterMs, lets N probes through and closes when all succeed', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      consecutiveFailures: 1,
      halfOpenAfterMs: 5000,
      halfOpenProbes: 2,
      clock,
    });
    await fail(breaker);
    await clock.advance(5000);
    const first = await breaker.acquire();
    const second = await breaker.acquire();
    expect([first.probe, second.probe]).toEqual([true, true]);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.acquire()).rejects.toMatchObject({ code: ErrorCode.CIRCUIT_OPEN });
    await first.done();
    expect(breaker.state).toBe('half-open');
    await expect(breaker.acquire()).rejects.toMatchObject({ code: ErrorCode.CIRCUIT_OPEN });
    await second.done();
    expect(breaker.state).toBe('closed');
    await expect(succeed(breaker)).resolves.toBe('ok');
  });

  it('opens again when a probe fails', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ consecutiveFailures: 1, halfOpenAfterMs: 1000, clock });
    await fail(breaker);
    await clock.advance(1000);
    await fail(breaker);
    expect(breaker.state).toBe('open');
    await expect(succeed(breaker)).rejects.toMatchObject({
      code: ErrorCode.CIRCUIT_OPEN,
      retryAfterMs: 1000,
    });
  });

  it('frees a probe slot whose caller never reported back after probeTimeoutMs', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      consecutiveFailures: 1,
      halfOpenAfterMs: 1000,
      probeTimeoutMs: 3000,
      clock,
    });
    await fail(breaker);
    await clock.advance(1000);
    await breaker.acquire(); // never reported
    await expect(breaker.acquire()).rejects.toMatchObject({
      code: ErrorCode.CIRCUIT_OPEN,
      retryAfterMs: 3000,
    });
    await clock.advance(3000);
    const probe = await breaker.acquire();
    expect(probe.probe).toBe(true);
  });

  it('in failure-rate mode, waits for the minimum volume before judging the rate', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      trip: failureRate({ threshold: 0.5, windowMs: 10_000, minimumVolume: 10 }),
      clock,
    });
    for (let i = 0; i < 5; i++) await fail(breaker);
    expect(breaker.state).toBe('closed'); // 5 calls < minimum volume, although 100% failed
    for (let i = 0; i < 4; i++) await succeed(breaker);
    expect(breaker.state).toBe('closed'); // 9 calls
    await fail(breaker); // 10 calls, 6 failed: 60% ≥ 50%
    expect(breaker.state).toBe('open');
  });

  it('in failure-run mode, opens only after nothing but failures for forMs, at least minimumFailures of them', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ trip: failureRun({ forMs: 30_000, minimumFailures: 10 }), clock });
    // Half the calls failing, for minutes: never opens.
    for (let s = 0; s < 120; s++) {
      await fail(breaker);
      await succeed(breaker);
      await clock.advance(1000);
    }
    expect(breaker.state).toBe('closed');
    // A burst of 50 failures in one second is no outage yet…
    for (let i = 0; i < 50; i++) await fail(breaker);
    expect(breaker.state).toBe('closed');
    // …30 s of nothing but failures is.
    await clock.advance(29_000);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    await clock.advance(1000);
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it('in failure-run mode, a success ends the run and a quiet upstream needs minimumFailures', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ trip: failureRun({ forMs: 30_000, minimumFailures: 10 }), clock });
    for (let i = 0; i < 20; i++) await fail(breaker);
    await clock.advance(29_000);
    await succeed(breaker);
    await clock.advance(5000);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    // Two failures a minute apart: a run of 2 minutes, but 2 failures.
    await clock.advance(60_000);
    await fail(breaker);
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 7; i++) await fail(breaker);
    expect(breaker.state).toBe('closed'); // 9 failures
    await fail(breaker);
    expect(breaker.state).toBe('open');
  });

  it('in failure-rate mode, forgets outcomes older than the window', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      trip: failureRate({ threshold: 0.5, windowMs: 10_000, minimumVolume: 4 }),
      clock,
    });
    for (let i = 0; i < 3; i++) await fail(breaker);
    await clock.advance(11_000);
    await fail(breaker);
    for (let i = 0; i < 3; i++) await succeed(breaker);
    expect(breaker.state).toBe('closed'); // 1 of 4 failed in the window
  });

  it('emits state changes as events and metrics', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const breaker = new CircuitBreaker({
      name: 'hubspot',
      consecutiveFailures: 1,
      halfOpenAfterMs: 100,
      clock,
      registry,
    });
    const changes: string[] = [];
    breaker.onStateChange((e) => changes.push(`${e.breaker}: ${e.from} -> ${e.to}`));
    await fail(breaker);
    await succeed(breaker).catch(() => {});
    await clock.advance(100);
    await succeed(breaker);
    expect(changes).toEqual([
      'hubspot: closed -> open',
      'hubspot: open -> half-open',
      'hubspot: half-open -> closed',
    ]);
    const text = await registry.metrics();
    expect(text).toContain('patchbay_circuit_breaker_state{breaker="hubspot"} 0');
    expect(text).toContain(
      'patchbay_circuit_breaker_transitions_total{breaker="hubspot",from="closed",to="open"} 1',
    );
    expect(text).toContain('patchbay_circuit_breaker_rejections_total{breaker="hubspot"} 1');
  });

  it('shares its state through a store: a breaker opened by one process is open for the others', async () => {
    const clock = new FakeClock();
    const store = new MemoryBreakerStateStore();
    const options = {
      name: 'graph',
      consecutiveFailures: 3,
      halfOpenAfterMs: 1000,
      store,
      syncIntervalMs: 0,
      clock,
    };
    const a = new CircuitBreaker(options);
    const b = new CircuitBreaker(options);
    const c = new CircuitBreaker(options);
    // Failures from different processes add up.
    await fail(a);
    await fail(b);
    await fail(c);
    expect(await a.refresh()).toBe('open');
    await expect(succeed(b)).rejects.toMatchObject({ code: ErrorCode.CIRCUIT_OPEN });
    await clock.advance(1000);
    // Only one probe is handed out across all of them.
    const probe = await a.acquire();
    await expect(b.acquire()).rejects.toMatchObject({ code: ErrorCode.CIRCUIT_OPEN });
    await expect(c.acquire()).rejects.toMatchObject({ code: ErrorCode.CIRCUIT_OPEN });
    await probe.done();
    expect(await b.refresh()).toBe('closed');
    await expect(succeed(c)).resolves.toBe('ok');
  });

  it('with a sync interval, trusts its closed view for that long and batches successes', async () => {
    const clock = new FakeClock();
    let writes = 0;
    const inner = new MemoryBreakerStateStore();
    const store = {
      update: (key: string, mutate: Parameters<MemoryBreakerStateStore['update']>[1]) => {
        writes++;
        return inner.update(key, mutate);
      },
    };
    const breaker = new CircuitBreaker({ store, syncIntervalMs: 1000, clock });
    await succeed(breaker); // first call reads the store
    const afterFirst = writes;
    for (let i = 0; i < 100; i++) await succeed(breaker);
    expect(writes).toBe(afterFirst);
    await clock.advance(1000);
    await succeed(breaker);
    expect(writes).toBeGreaterThan(afterFirst);
  });

  it('syncs once for concurrent calls while the store is slow to answer', async () => {
    const clock = new FakeClock();
    const inner = new MemoryBreakerStateStore();
    const answers: (() => void)[] = [];
    let updates = 0;
    const store = {
      update: async (key: string, mutate: Parameters<MemoryBreakerStateStore['update']>[1]) => {
        updates++;
        await new Promise<void>((resolve) => answers.push(resolve));
        return inner.update(key, mutate);
      },
    };
    const breaker = new CircuitBreaker({ store, syncIntervalMs: 1000, clock });
    const calls = Array.from({ length: 64 }, () => succeed(breaker));
    await Promise.resolve();
    // One call reads the store; the other 63 go ahead on the (closed) local view meanwhile.
    expect(updates).toBe(1);
    while (answers.length > 0) {
      answers.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect(Promise.all(calls)).resolves.toHaveLength(64);
    // Their 63 successes wait for the next sync instead of each starting one while the first was out.
    expect(updates).toBe(1);
  });

  it('keeps deciding on its local view when the store fails, and says so', async () => {
    const errors: unknown[] = [];
    const breaker = new CircuitBreaker({
      consecutiveFailures: 2,
      store: { update: () => Promise.reject(new Error('redis down')) },
      onStoreError: (e) => errors.push(e),
      clock: new FakeClock(),
    });
    await fail(breaker);
    await fail(breaker);
    expect(breaker.state).toBe('open');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE });
  });

  it('validates options, naming them', () => {
    expect(() => new CircuitBreaker({ consecutiveFailures: 0 })).toThrow(/breaker\.consecutiveFailures/);
    expect(() => new CircuitBreaker({ halfOpenProbes: 1.5 })).toThrow(/breaker\.halfOpenProbes.*1\.5/);
    expect(() => failureRate({ threshold: 2 })).toThrow(/threshold/);
  });
});
