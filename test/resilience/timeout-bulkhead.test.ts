import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { Bulkhead } from '../../src/resilience/bulkhead.js';
import { pipeline } from '../../src/resilience/pipeline.js';
import { TimeoutPolicy } from '../../src/resilience/timeout-policy.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { track, untilSleeping } from './helpers.js';

describe('timeout policy', () => {
  it('rejects with TIMEOUT and aborts the work when the time is up', async () => {
    const clock = new FakeClock();
    const policy = new TimeoutPolicy({ timeoutMs: 1000, clock });
    let signal: AbortSignal | undefined;
    const run = track(
      policy.execute(({ signal: s }) => {
        signal = s;
        return new Promise(() => {}); // ignores its signal: the policy must still give up
      }),
    );
    await untilSleeping(clock);
    await clock.advance(999);
    expect(run.settled()).toBe(false);
    await clock.advance(1);
    await expect(run.result).rejects.toMatchObject({ code: ErrorCode.TIMEOUT, data: { timeoutMs: 1000 } });
    expect(signal?.aborted).toBe(true);
  });

  it('uses the caller deadline when it comes first', async () => {
    const clock = new FakeClock();
    const policy = new TimeoutPolicy({ timeoutMs: 30_000, clock });
    const run = track(policy.execute(() => new Promise(() => {}), { deadline: clock.now() + 250 }));
    await untilSleeping(clock);
    expect(clock.nextWake! - clock.now()).toBe(250);
    await clock.advance(250);
    await expect(run.result).rejects.toThrow(/deadline passed after 250 ms/);
    await expect(policy.execute(async () => 1, { deadline: clock.now() })).rejects.toMatchObject({
      code: ErrorCode.TIMEOUT,
    });
  });

  it('cancels its timer when the work finishes', async () => {
    const clock = new FakeClock();
    const policy = new TimeoutPolicy({ timeoutMs: 1000, clock });
    await expect(policy.execute(async () => 'done')).resolves.toBe('done');
    await expect(policy.execute(async () => Promise.reject(new Error('own')))).rejects.toThrow('own');
    await untilSleeping(clock, 0);
    expect(clock.pending).toBe(0);
  });

  it('rejects with ABORTED when the caller aborts', async () => {
    const clock = new FakeClock();
    const policy = new TimeoutPolicy({ timeoutMs: 1000, clock });
    const controller = new AbortController();
    const run = track(policy.execute(() => new Promise(() => {}), controller.signal));
    controller.abort();
    await expect(run.result).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });
});

describe('bulkhead', () => {
  it('runs at most maxConcurrent at once, queues up to maxQueue and refuses beyond', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueue: 1 });
    const gates: (() => void)[] = [];
    const work = () =>
      bulkhead.execute(
        () =>
          new Promise<void>((resolve) => {
            gates.push(resolve);
          }),
      );
    const a = work();
    const b = work();
    const c = work();
    await expect(work()).rejects.toMatchObject({ code: ErrorCode.BULKHEAD_FULL });
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 1]);
    gates[0]!();
    await a;
    await Promise.resolve();
    expect([bulkhead.active, bulkhead.queued]).toEqual([2, 0]);
    gates[1]!();
    gates[2]!();
    await Promise.all([b, c]);
    expect(bulkhead.active).toBe(0);
  });

  it('lets a queued caller leave when its signal aborts', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    let release = () => {};
    const first = bulkhead.execute(() => new Promise<void>((r) => (release = r)));
    const controller = new AbortController();
    const queued = bulkhead.execute(async () => 'never', controller.signal);
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    expect(bulkhead.queued).toBe(0);
    release();
    await first;
  });
});

describe('pipeline', () => {
  it('composes outermost first and passes the context inward', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const tag = (name: string) => ({
      async execute<T>(fn: (ctx: never) => Promise<T> | T, opts?: unknown): Promise<T> {
        order.push(`${name}>`);
        const value = await fn(opts as never);
        order.push(`<${name}`);
        return value;
      },
    });
    const result = await pipeline(tag('a'), tag('b'), new TimeoutPolicy({ timeoutMs: 10, clock })).execute(
      ({ signal }) => {
        order.push('fn');
        return signal.aborted ? 'aborted' : 'ran';
      },
    );
    expect(result).toBe('ran');
    expect(order).toEqual(['a>', 'b>', 'fn', '<b', '<a']);
  });
});
