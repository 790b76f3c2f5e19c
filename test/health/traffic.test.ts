import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { TrafficRecorder } from '../../src/health/traffic-recorder.js';
import type { Database } from '../../src/store/database.js';
import { bucketPercentile, TrafficStore } from '../../src/store/traffic-store.js';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';
import { dialects, migratedDatabase } from '../helpers/databases.js';

const MINUTE = 60_000;

describe.each(dialects)('traffic recorded per minute on $name', (dialect) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let store: TrafficStore;
  beforeAll(async () => {
    ({ database, cleanup } = await migratedDatabase(dialect));
    store = new TrafficStore(database);
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it("adds up two processes' rows; a repeated flush counts nothing twice", async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 3, 10, 0, 5));
    const a = new TrafficRecorder({ store, clock, logger: silentLogger, process: 'a' });
    const b = new TrafficRecorder({ store, clock, logger: silentLogger, process: 'b' });
    a.record('source', 'gh', { ok: true, durationMs: 3 });
    a.record('source', 'gh', { ok: false, reason: 'SIGNATURE_INVALID', durationMs: 1 });
    b.record('source', 'gh', { ok: false, reason: 'SIGNATURE_INVALID', durationMs: 2 });
    b.record('source', 'gh', { ok: false, reason: 'PAYLOAD_TOO_LARGE', durationMs: 700 });
    await a.flush();
    await a.flush();
    await b.flush();
    a.record('source', 'gh', { ok: true, durationMs: 4 });
    await a.flush();
    const [gh] = await store.since('source', clock.now() - 15 * MINUTE);
    expect(gh).toMatchObject({
      subject: 'gh',
      ok: 2,
      failed: 3,
      reasons: { SIGNATURE_INVALID: 2, PAYLOAD_TOO_LARGE: 1 },
      durationMax: 700,
      lastOkAt: clock.now(),
    });
    expect(gh!.buckets.reduce((x, y) => x + y, 0)).toBe(5);
    expect(bucketPercentile(gh!.buckets, gh!.durationMax)).toBe(700);
    expect(await store.since('connection', clock.now() - 15 * MINUTE)).toEqual([]);
    await a.stop();
    await b.stop();
  });

  it('flushes on its own every 10 s once something is recorded, keeps the latest headroom, and prunes after 24 h', async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 4, 10, 0, 0));
    const recorder = new TrafficRecorder({ store, clock, logger: silentLogger, process: 'p' });
    expect(clock.pending).toBe(0); // no timer before the first observation
    recorder.record('connection', 'crm', { ok: true, durationMs: 40, headroom: 0.5 });
    recorder.record('connection', 'crm', { ok: false, limited: true, durationMs: 30, headroom: 0 });
    expect(await store.since('connection', clock.now())).toEqual([]);
    await clock.advance(10_000);
    await flushMicrotasks();
    await waitFor(async () => (await store.since('connection', clock.now() - MINUTE)).length === 1);
    expect((await store.since('connection', clock.now() - MINUTE))[0]).toMatchObject({
      ok: 1,
      failed: 0,
      limited: 1,
      headroom: 0,
    });
    // A day later its rows are pruned by the next flush.
    clock.set(clock.now() + 25 * 60 * MINUTE);
    recorder.record('connection', 'crm', { ok: true, durationMs: 20, headroom: 0.9 });
    await recorder.stop();
    const rows = await store.since('connection', 0);
    expect(rows).toMatchObject([{ subject: 'crm', ok: 1, limited: 0, headroom: 0.9 }]);
    expect(clock.pending).toBe(0);
  });

  it('keeps counts whose write failed for the next flush', async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 5, 10, 0, 0));
    let fail = true;
    const flaky = new TrafficStore(database);
    const upsert = flaky.upsert.bind(flaky);
    flaky.upsert = async (process, cells) => {
      if (fail) throw new Error('store away');
      return upsert(process, cells);
    };
    const recorder = new TrafficRecorder({ store: flaky, clock, logger: silentLogger, process: 'f' });
    recorder.record('source', 'flaky', { ok: true, durationMs: 1 });
    await expect(recorder.flush()).rejects.toThrow('store away');
    fail = false;
    await recorder.stop();
    expect(await store.since('source', clock.now() - MINUTE)).toMatchObject([{ subject: 'flaky', ok: 1 }]);
  });
});

describe('bucketPercentile', () => {
  it('answers the bound of the bucket holding the 95th percentile, at most the largest seen', () => {
    expect(bucketPercentile([0, 0, 0, 0, 0, 0, 0, 0, 0], 0)).toBeUndefined();
    // 95 fast, 5 between 1 s and 2.5 s: the 95th is still fast.
    expect(bucketPercentile([95, 0, 0, 0, 0, 5, 0, 0, 0], 2000)).toBe(50);
    expect(bucketPercentile([94, 0, 0, 0, 0, 6, 0, 0, 0], 2000)).toBe(2000);
    expect(bucketPercentile([90, 0, 0, 0, 0, 0, 0, 0, 10], 30_000)).toBe(30_000);
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('timed out waiting');
}
