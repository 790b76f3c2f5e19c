import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, PatchbayError } from '../../src/core/errors.js';
import { SyncMetrics } from '../../src/sync/sync-metrics.js';
import { SyncRunner } from '../../src/sync/sync-runner.js';
import { throttledPage } from '../../src/sync/throttled-page.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { dialects } from '../helpers/databases.js';
import { until } from '../helpers/fixture-process.js';
import { type SyncHarness, syncHarness } from './helpers.js';
import { MemorySource } from './memory-source.js';

/** What the HTTP client ends a call with when every attempt was answered 429 (see retry-policy.ts). */
function exhausted429(retryAfterMs: number | undefined): PatchbayError {
  const last = new PatchbayError(
    ErrorCode.RATE_LIMITED,
    'GET /people answered 429: Please retry again later.',
    {
      status: 429,
      classification: 'transient',
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    },
  );
  return new PatchbayError(
    ErrorCode.RETRIES_EXHAUSTED,
    `gave up after 3 attempts (no attempts left): ${last.message}`,
    {
      cause: last,
      status: 429,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    },
  );
}

describe('throttledPage', () => {
  it('takes 429s, a 503 that says when to come back and the local rate limit; nothing else', () => {
    expect(throttledPage(exhausted429(350))).toEqual({ status: 429, retryAfterMs: 350 });
    const local = new PatchbayError(ErrorCode.RATE_LIMITED, 'no slot', {
      retryAfterMs: 900,
      classification: 'permanent',
    });
    expect(throttledPage(local)).toEqual({ status: undefined, retryAfterMs: 900 });
    const unavailable = (retryAfterMs?: number) =>
      new PatchbayError(ErrorCode.HTTP_SERVER_ERROR, 'answered 503', {
        status: 503,
        ...(retryAfterMs && { retryAfterMs }),
      });
    expect(throttledPage(unavailable(2000))).toEqual({ status: 503, retryAfterMs: 2000 });
    expect(throttledPage(unavailable())).toBeUndefined();
    expect(
      throttledPage(new PatchbayError(ErrorCode.HTTP_CLIENT_ERROR, 'answered 404', { status: 404 })),
    ).toBeUndefined();
    expect(throttledPage(new Error('connection reset'))).toBeUndefined();
  });
});

for (const dialect of dialects) {
  describe(`a run throttled on a page, on ${dialect.name}`, () => {
    let h: SyncHarness;
    let clock: FakeClock;
    let source: MemorySource;
    let registry: Registry;

    beforeEach(async () => {
      clock = new FakeClock(Date.now());
      h = await syncHarness(dialect, { clock });
      registry = new Registry();
      h.ports.metrics = new SyncMetrics(registry, async () => []);
      source = new MemorySource();
    });
    afterEach(async () => h?.cleanup());

    const runRow = async () => (await h.stores.runs.list('people', { limit: 1 }))[0]!;
    const report = async () =>
      (await h.stores.runs.list('people', { limit: 1 }))[0]?.report as
        | { waiting?: unknown }
        | null
        | undefined;
    const metric = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.sync === 'people')?.value;

    it('waits as asked, saying why, and reads the page again from its checkpoint', async () => {
      source.seed(50);
      source.throttleAfterPages = 3;
      source.throttles = [exhausted429(350), exhausted429(350), exhausted429(350)];
      const sync = source.sync();
      await h.stores.state.ensure([sync.id], clock.now());
      const outcome = h.runner.run(sync, { trigger: 'manual' });
      for (let wait = 1; wait <= 3; wait++) {
        // The run says why it waits while it waits, and sleeps exactly as long as the source asked.
        await until(
          'the run to say it waits',
          async () =>
            ((await report()) as { throttled?: { waits: number } } | null)?.throttled?.waits === wait,
        );
        expect((await runRow()).report).toMatchObject({
          waiting: {
            reason: 'throttled: the source answered 429 (Retry-After 0.35 s)',
            until: new Date(clock.now() + 350).toISOString(),
          },
          throttled: { waits: wait },
        });
        expect(clock.nextWake).toBe(clock.now() + 350);
        await clock.advance(349);
        expect((await runRow()).status).toBe('running');
        await clock.advance(1);
      }
      const done = await outcome;
      expect(done).toMatchObject({ status: 'succeeded', counts: { created: 50 } });
      expect((await runRow()).report).toEqual({ throttled: { waits: 3, waitedMs: 1050 } });
      // Pages before the throttled one were read once: the run went on from its last commit.
      const counts = [...source.fetches.values()];
      expect(counts.filter((n) => n === 4)).toHaveLength(1);
      expect(counts.filter((n) => n !== 1 && n !== 4)).toEqual([]);
      expect(await metric('patchbay_sync_throttle_waits_total')).toBe(3);
      expect(await metric('patchbay_sync_throttle_wait_seconds_total')).toBeCloseTo(1.05);
    });

    it('fails after maxThrottleWaits in a row, and the next run resumes from the same page', async () => {
      const runner = new SyncRunner(h.ports, {
        owner: 'test',
        leaseMs: 60_000,
        sweepBatch: 1000,
        maxCursorRestarts: 3,
        maxThrottleWaits: 2,
      });
      source.seed(50);
      source.throttleAfterPages = 2;
      source.throttles = [exhausted429(undefined), exhausted429(undefined), exhausted429(undefined)];
      const sync = source.sync();
      await h.stores.state.ensure([sync.id], clock.now());
      const outcome = runner.run(sync, { trigger: 'manual' });
      // Without a Retry-After: 1 s, then 2 s.
      for (const waitMs of [1000, 2000]) {
        await until('the run to wait', async () => {
          return (await report())?.waiting !== undefined && clock.nextWake === clock.now() + waitMs;
        });
        await clock.advance(waitMs);
      }
      const failed = await outcome;
      expect(failed).toMatchObject({ status: 'failed', counts: { created: 20 } });
      expect(failed.status !== 'busy' && failed.error?.message).toMatch(
        /^sync people: a page was throttled 3 times in a row \(the source answered 429 \(no Retry-After, waiting 4 s\)\); the next run resumes from the last committed page: gave up after 3 attempts/,
      );
      expect(failed.status !== 'busy' && failed.error?.code).toBe(ErrorCode.RETRIES_EXHAUSTED);
      const resumed = await runner.run(sync, { trigger: 'manual' });
      expect(resumed).toMatchObject({ status: 'succeeded', counts: { created: 30 } });
    });

    it('fails at once when the source asks to wait longer than a run waits', async () => {
      source.seed(30);
      source.throttleAfterPages = 1;
      source.throttles = [exhausted429(600_000)];
      const sync = source.sync();
      await h.stores.state.ensure([sync.id], clock.now());
      const failed = await h.runner.run(sync, { trigger: 'manual' });
      expect(failed).toMatchObject({ status: 'failed', counts: { created: 10 } });
      expect(failed.status !== 'busy' && failed.error?.message).toMatch(
        /the source asks to wait 600 s, longer than a run waits \(300 s\)/,
      );
      expect(await metric('patchbay_sync_throttle_waits_total')).toBeUndefined();
    });
  });
}
