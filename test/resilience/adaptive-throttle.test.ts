import { describe, expect, it } from 'vitest';
import { ErrorCode, PatchbayError } from '../../src/core/errors.js';
import { AdaptiveThrottle } from '../../src/resilience/adaptive-throttle.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

const failing = () =>
  new PatchbayError(ErrorCode.HTTP_SERVER_ERROR, 'HTTP 503', { classification: 'transient' });

/** Offers `n` calls; `accept(i)` says whether the upstream takes the i-th one sent. Returns how many were sent. */
async function offer(throttle: AdaptiveThrottle, n: number, accept: (i: number) => boolean): Promise<number> {
  let sent = 0;
  for (let i = 0; i < n; i++) {
    await throttle
      .execute(() => {
        const ok = accept(sent++);
        if (!ok) throw failing();
      })
      .catch((err) => {
        if (!(err instanceof PatchbayError)) throw err;
      });
  }
  return sent;
}

/** mulberry32: the same spread of [0, 1) every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('adaptive throttle', () => {
  it('feeds an upstream that accepts half of its calls in full (k = 2)', async () => {
    const throttle = new AdaptiveThrottle({ clock: new FakeClock(0), random: () => 0 });
    // random() = 0 refuses whenever the probability is above 0: nothing is refused at all.
    expect(await offer(throttle, 1000, (i) => i % 2 === 0)).toBe(1000);
    expect(throttle.refusalProbability()).toBe(0);
  });

  it('refuses with probability (requests − k·accepts) / (requests + 1) once the window holds enough', async () => {
    const throttle = new AdaptiveThrottle({ clock: new FakeClock(0), random: () => 0.999 });
    await offer(throttle, 9, () => false);
    // Nine are too few to judge.
    expect(throttle.refusalProbability()).toBe(0);
    await offer(throttle, 11, (i) => i < 2);
    // 20 requests, 2 accepts: (20 − 4) / 21.
    expect(throttle.counts()).toEqual({ requests: 20, accepts: 2 });
    expect(throttle.refusalProbability()).toBeCloseTo(16 / 21, 10);
  });

  it('feeds an upstream that accepts nothing a trickle, refused calls not counted as requests', async () => {
    const random = seeded(7);
    const throttle = new AdaptiveThrottle({ clock: new FakeClock(0), random });
    const sent = await offer(throttle, 10_000, () => false);
    // Each call passes with probability 1/(sent + 1): about √(2·10,000) of 10,000.
    expect(sent).toBeGreaterThan(50);
    expect(sent).toBeLessThan(300);
    const refused = await throttle.execute(() => 'sent').catch((err: PatchbayError) => err);
    if (refused instanceof PatchbayError) {
      expect(refused.code).toBe(ErrorCode.THROTTLED);
      expect(refused.message).toMatch(/accepted 0 of the last \d+ calls/);
      expect(refused.retryAfterMs).toBe(6000);
    }
  });

  it('ramps up as a failing upstream starts accepting: each accept lets k more through', async () => {
    const clock = new FakeClock(0);
    const random = seeded(11);
    const throttle = new AdaptiveThrottle({ clock, random });
    await offer(throttle, 2000, () => false);
    const before = throttle.refusalProbability();
    expect(before).toBeGreaterThan(0.9);
    // It recovers: every call sent is accepted from now on, offered 100 calls a second.
    const perSecond: number[] = [];
    for (let s = 0; s < 60; s++) {
      perSecond.push(await offer(throttle, 100, () => true));
      await clock.advance(1000);
    }
    // A trickle in the first second (6 here), several times more in the next (69), then all of it.
    expect(perSecond[0]!).toBeLessThan(20);
    expect(perSecond[1]!).toBeGreaterThan(perSecond[0]! * 3);
    expect(perSecond.slice(2).every((n) => n === 100)).toBe(true);
  });

  it('forgets what left the window, and does not count its own refusals or cancellations', async () => {
    const clock = new FakeClock(0);
    const throttle = new AdaptiveThrottle({ clock, random: () => 0.5, windowMs: 10_000 });
    await offer(throttle, 40, () => false);
    expect(throttle.counts().requests).toBeGreaterThanOrEqual(10);
    await clock.advance(10_001);
    expect(throttle.counts()).toEqual({ requests: 0, accepts: 0 });
    await throttle
      .execute(() => {
        throw new PatchbayError(ErrorCode.ABORTED, 'shutting down');
      })
      .catch(() => {});
    await throttle
      .execute(() => {
        throw new PatchbayError(ErrorCode.CIRCUIT_OPEN, 'open');
      })
      .catch(() => {});
    expect(throttle.counts()).toEqual({ requests: 0, accepts: 0 });
    // A 4xx proves the upstream answers: accepted. A 429 does not.
    await throttle
      .execute(() => {
        throw new PatchbayError(ErrorCode.HTTP_CLIENT_ERROR, 'HTTP 400', {
          status: 400,
          classification: 'permanent',
        });
      })
      .catch(() => {});
    await throttle
      .execute(() => {
        throw new PatchbayError(ErrorCode.RATE_LIMITED, 'HTTP 429', { status: 429 });
      })
      .catch(() => {});
    expect(throttle.counts()).toEqual({ requests: 2, accepts: 1 });
  });

  it('names a bad option', () => {
    expect(() => new AdaptiveThrottle({ k: 0.5 })).toThrow(
      /throttle.k must be a finite number >= 1 \(got 0.5\)/,
    );
    expect(() => new AdaptiveThrottle({ windw: 1 } as never)).toThrow(/windw/);
  });
});
