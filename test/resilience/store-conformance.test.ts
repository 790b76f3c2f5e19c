import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BreakerSnapshot,
  initialBreakerSnapshot,
  type RateLimitStore,
} from '../../src/resilience/index.js';
import { backends, type StoreBackend } from './store-backends.js';

const T0 = 1_767_225_600_000; // 2026-01-01, a realistic epoch-ms magnitude
let keySeq = 0;
const freshKey = () => `key-${++keySeq}`;

for (const backend of backends) {
  describe.skipIf(!backend.available)(`limit stores on ${backend.name}`, () => {
    let stores: StoreBackend;
    let a: RateLimitStore;
    let b: RateLimitStore;

    beforeAll(async () => {
      stores = await backend.open();
      [a, b] = stores.rateLimits;
    });
    afterAll(async () => stores?.cleanup());

    it('grants up to the limit in a window, then says how long until the oldest slot leaves', async () => {
      const key = freshKey();
      const req = { limit: 3, windowMs: 1000, cost: 1 };
      expect(await a.acquireWindow(key, { ...req, now: T0 })).toEqual({ granted: true, remaining: 2 });
      expect(await b.acquireWindow(key, { ...req, now: T0 + 100 })).toEqual({ granted: true, remaining: 1 });
      expect(await a.acquireWindow(key, { ...req, now: T0 + 200 })).toEqual({ granted: true, remaining: 0 });
      expect(await b.acquireWindow(key, { ...req, now: T0 + 300 })).toEqual({
        granted: false,
        retryAfterMs: 700,
      });
      // The window is (now − W, now]: the slot taken at T0 is gone exactly at T0 + W.
      expect(await b.acquireWindow(key, { ...req, now: T0 + 999 })).toEqual({
        granted: false,
        retryAfterMs: 1,
      });
      expect(await a.acquireWindow(key, { ...req, now: T0 + 1000 })).toEqual({ granted: true, remaining: 0 });
    });

    it('counts a multi-slot request and waits for enough slots to leave', async () => {
      const key = freshKey();
      await a.acquireWindow(key, { limit: 5, windowMs: 1000, now: T0, cost: 2 });
      await a.acquireWindow(key, { limit: 5, windowMs: 1000, now: T0 + 10, cost: 2 });
      expect(await b.acquireWindow(key, { limit: 5, windowMs: 1000, now: T0 + 20, cost: 3 })).toEqual({
        granted: false,
        retryAfterMs: 980, // the two slots taken at T0 must leave
      });
      expect(await b.acquireWindow(key, { limit: 5, windowMs: 1000, now: T0 + 20, cost: 1 })).toEqual({
        granted: true,
        remaining: 0,
      });
    });

    it('stamps a slot with the time it reads from the caller once it holds the key', async () => {
      const key = freshKey();
      const req = { limit: 1, windowMs: 1000, cost: 1 };
      expect(await a.acquireWindow(key, { ...req, now: () => T0 + 500 })).toEqual({
        granted: true,
        remaining: 0,
      });
      // Counted from T0 + 500 (when the store looked), not from any earlier time the caller knew.
      expect(await b.acquireWindow(key, { ...req, now: () => T0 + 1200 })).toEqual({
        granted: false,
        retryAfterMs: 300,
      });
    });

    it('grants exactly the limit to many concurrent requests from two processes', async () => {
      const key = freshKey();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).acquireWindow(key, { limit: 10, windowMs: 60_000, now: T0 + i, cost: 1 }),
        ),
      );
      expect(results.filter((r) => r.granted)).toHaveLength(10);
    });

    it('reduces the free slots to what the provider says remains', async () => {
      const key = freshKey();
      await a.acquireWindow(key, { limit: 10, windowMs: 1000, now: T0, cost: 1 });
      await b.reduceWindow(key, { limit: 10, windowMs: 1000, now: T0 + 50, remaining: 2 });
      expect(await a.acquireWindow(key, { limit: 10, windowMs: 1000, now: T0 + 60, cost: 1 })).toEqual({
        granted: true,
        remaining: 1,
      });
      // Reducing to more than is free changes nothing.
      await b.reduceWindow(key, { limit: 10, windowMs: 1000, now: T0 + 70, remaining: 5 });
      expect(await a.acquireWindow(key, { limit: 10, windowMs: 1000, now: T0 + 80, cost: 1 })).toEqual({
        granted: true,
        remaining: 0,
      });
    });

    it('blocks a key until a time, keeping the later of two blocks', async () => {
      const key = freshKey();
      await a.block(key, T0 + 5000);
      await b.block(key, T0 + 2000);
      expect(await b.acquireWindow(key, { limit: 10, windowMs: 1000, now: T0, cost: 1 })).toEqual({
        granted: false,
        retryAfterMs: 5000,
      });
      expect(await a.acquireGcra(key, { intervalMs: 100, burst: 1, now: T0 + 1000, cost: 1 })).toEqual({
        granted: false,
        retryAfterMs: 4000,
      });
      expect(
        (await a.acquireWindow(key, { limit: 10, windowMs: 1000, now: T0 + 5000, cost: 1 })).granted,
      ).toBe(true);
    });

    it('runs GCRA: a burst, then one request per interval', async () => {
      const key = freshKey();
      const req = { intervalMs: 100, burst: 3, cost: 1 };
      const first = [];
      for (let i = 0; i < 3; i++) first.push(await (i % 2 ? a : b).acquireGcra(key, { ...req, now: T0 }));
      expect(first).toEqual([
        { granted: true, remaining: 2 },
        { granted: true, remaining: 1 },
        { granted: true, remaining: 0 },
      ]);
      expect(await a.acquireGcra(key, { ...req, now: T0 + 40 })).toEqual({
        granted: false,
        retryAfterMs: 60,
      });
      expect(await b.acquireGcra(key, { ...req, now: T0 + 100 })).toEqual({ granted: true, remaining: 0 });
      await a.reduceGcra(key, { intervalMs: 100, burst: 3, now: T0 + 1000, remaining: 1 });
      expect(await b.acquireGcra(key, { ...req, now: T0 + 1000 })).toEqual({ granted: true, remaining: 0 });
      expect((await b.acquireGcra(key, { ...req, now: T0 + 1000 })).granted).toBe(false);
    });

    it('holds concurrency leases until released or expired', async () => {
      const key = freshKey();
      const lease = (token: string, now: number) =>
        a.acquireLease(key, { limit: 2, leaseMs: 1000, now, token });
      expect(await lease('x', T0)).toEqual({ granted: true, remaining: 1 });
      expect(await b.acquireLease(key, { limit: 2, leaseMs: 1000, now: T0 + 10, token: 'y' })).toEqual({
        granted: true,
        remaining: 0,
      });
      expect(await lease('z', T0 + 20)).toEqual({ granted: false, retryAfterMs: 980 });
      await b.releaseLease(key, 'x');
      expect((await lease('z', T0 + 30)).granted).toBe(true);
      // 'y' expires at T0 + 1010 even though nobody released it.
      expect((await lease('w', T0 + 1010)).granted).toBe(true);
    });

    it('keeps keys apart', async () => {
      const [k1, k2] = [freshKey(), freshKey()];
      await a.acquireWindow(k1, { limit: 1, windowMs: 1000, now: T0, cost: 1 });
      expect((await a.acquireWindow(k2, { limit: 1, windowMs: 1000, now: T0, cost: 1 })).granted).toBe(true);
    });

    it('updates a breaker record atomically under concurrent writers', async () => {
      const [x, y] = stores.breakers;
      const key = freshKey();
      const bump = (s: BreakerSnapshot | undefined): BreakerSnapshot => {
        const base = s ?? initialBreakerSnapshot;
        return { ...base, counters: { consecutive: (base.counters.consecutive ?? 0) + 1 } };
      };
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? x : y).update(key, bump)));
      const final = await x.update(key, (s) => s!);
      expect(final.counters.consecutive).toBe(20);
    });

    it('returns the stored breaker record without writing when nothing changes', async () => {
      const [x, y] = stores.breakers;
      const key = freshKey();
      const open: BreakerSnapshot = { ...initialBreakerSnapshot, state: 'open', openedAt: T0, generation: 1 };
      expect(await x.update(key, () => open)).toEqual(open);
      expect(await y.update(key, (s) => s!)).toEqual(open);
    });
  });
}
