import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import type { Delivery, DestinationRun } from '../../src/store/delivery-store.js';
import {
  type AttemptFacts,
  decideAttempt,
  HEALTHY_RUN,
  type RuleSettings,
} from '../../src/webhooks/delivery/delivery-rules.js';
import type { AttemptResult } from '../../src/webhooks/delivery/http-sender.js';

const NOW = Date.parse('2026-12-02T03:00:00Z');
const settings: RuleSettings = {
  schedule: { schedule: [5000, 300_000, 1_800_000], jitter: 0.2, overloadMinimumMs: 60_000 },
  disableAfterMs: 5 * 86_400_000,
  failingAfter: 3,
  // The middle of the jitter range: delays are exactly as scheduled.
  random: () => 0.5,
};

function delivery(over: Partial<Delivery> = {}): Delivery {
  return {
    id: 'dlv_1',
    eventId: 'evt_1',
    destinationId: 'app',
    status: 'pending',
    attempts: 0,
    cycleAttempts: 0,
    nextAttemptAt: NOW,
    lastStatus: null,
    lastError: null,
    failingNotified: false,
    manual: false,
    createdAt: NOW - 1000,
    updatedAt: NOW - 1000,
    succeededAt: null,
    ...over,
  };
}

function result(statusCode: number | null, over: Partial<AttemptResult> = {}): AttemptResult {
  const ok = statusCode !== null && statusCode < 300;
  return {
    outcome: ok ? 'succeeded' : 'failed',
    statusCode,
    responseHeaders: statusCode === null ? null : {},
    responseBody: statusCode === null ? null : '',
    errorCode: ok ? null : statusCode === null ? ErrorCode.NETWORK_ERROR : ErrorCode.HTTP_SERVER_ERROR,
    errorMessage: ok ? null : statusCode === null ? 'ECONNREFUSED' : `HTTP ${statusCode}`,
    durationMs: 12,
    overloaded: statusCode === 429,
    gone: statusCode === 410,
    ...over,
  };
}

const facts = (d: Delivery, r: AttemptResult, operational = false): AttemptFacts => ({
  delivery: d,
  destinationId: 'app',
  result: r,
  operational,
});

const failingRun = (since: number, alerted = false): DestinationRun => ({
  failingSince: since,
  alerted,
  status: 'enabled',
});

describe('delivery rules', () => {
  it('a 2xx succeeds: the delivery is done and a healthy destination is left as it was', () => {
    const d = decideAttempt(facts(delivery(), result(200)), HEALTHY_RUN, NOW, settings);
    expect(d.outcome).toBe('succeeded');
    expect(d.delivery).toMatchObject({
      status: 'succeeded',
      succeededAt: NOW,
      attempts: 1,
      lastStatus: 200,
    });
    expect(d.delivery.nextAttemptAt).toBeNull();
    expect(d.next).toBeUndefined();
    expect(d.destination).toBeUndefined();
    expect(d.announcements).toEqual([]);
  });

  it('a success ends a failing run, and announces the recovery only when the operator was told of it', () => {
    const quiet = decideAttempt(facts(delivery(), result(204)), failingRun(NOW - 60_000), NOW, settings);
    expect(quiet.destination).toEqual({ failingSince: null, alerted: false, status: 'enabled' });
    expect(quiet.announcements).toEqual([]);
    const told = decideAttempt(facts(delivery(), result(204)), failingRun(NOW - 60_000, true), NOW, settings);
    expect(told.announcements).toEqual([
      {
        type: 'destination.recovered',
        key: `destination.recovered:app:${NOW - 60_000}`,
        payload: { destinationId: 'app', failingSince: new Date(NOW - 60_000).toISOString() },
      },
    ]);
  });

  it('a failure schedules the next attempt and starts the destination failing run', () => {
    const d = decideAttempt(facts(delivery(), result(503)), HEALTHY_RUN, NOW, settings);
    expect(d.outcome).toBe('retrying');
    expect(d.next).toBe(NOW + 5000);
    expect(d.delivery).toMatchObject({
      status: null,
      nextAttemptAt: NOW + 5000,
      lastError: 'HTTP 503',
      cycleAttempts: 1,
    });
    expect(d.destination).toEqual({ failingSince: NOW, alerted: false, status: 'enabled' });
    expect(d.announcements).toEqual([]);
  });

  it('a failure of an already failing destination leaves its run alone', () => {
    const d = decideAttempt(facts(delivery(), result(503)), failingRun(NOW - 1000), NOW, settings);
    expect(d.destination).toBeUndefined();
  });

  it('waits the overload minimum after a 429 or a timeout, and honours Retry-After up to twice the delay', () => {
    expect(decideAttempt(facts(delivery(), result(429)), HEALTHY_RUN, NOW, settings).next).toBe(NOW + 60_000);
    const timeout = result(null, { errorCode: ErrorCode.TIMEOUT, overloaded: true });
    expect(decideAttempt(facts(delivery(), timeout), HEALTHY_RUN, NOW, settings).next).toBe(NOW + 60_000);
    const asks = result(503, { retryAfterMs: 3_600_000 });
    expect(decideAttempt(facts(delivery(), asks), HEALTHY_RUN, NOW, settings).next).toBe(NOW + 10_000);
  });

  it('announces delivery.failing once, at failingAfter failures in a cycle, and marks the run alerted', () => {
    const third = delivery({ attempts: 2, cycleAttempts: 2 });
    const d = decideAttempt(facts(third, result(500)), failingRun(NOW - 10_000), NOW, settings);
    expect(d.delivery.failingNotified).toBe(true);
    expect(d.destination).toEqual({ failingSince: NOW - 10_000, alerted: true, status: 'enabled' });
    expect(d.announcements).toEqual([
      {
        type: 'delivery.failing',
        key: 'delivery.failing:dlv_1:3',
        payload: {
          deliveryId: 'dlv_1',
          eventId: 'evt_1',
          destinationId: 'app',
          attempts: 3,
          lastStatus: 500,
          lastError: 'HTTP 500',
        },
      },
    ]);
    const again = decideAttempt(
      facts(delivery({ attempts: 2, cycleAttempts: 2, failingNotified: true }), result(500)),
      failingRun(NOW - 10_000, true),
      NOW,
      settings,
    );
    expect(again.announcements).toEqual([]);
    expect(again.delivery.failingNotified).toBeNull();
  });

  it('dead-letters a delivery whose schedule is exhausted and announces it', () => {
    const last = delivery({ attempts: 3, cycleAttempts: 3, failingNotified: true });
    const d = decideAttempt(facts(last, result(502)), failingRun(NOW - 3_600_000, true), NOW, settings);
    expect(d.outcome).toBe('dead-lettered');
    expect(d.next).toBeUndefined();
    expect(d.delivery).toMatchObject({ status: 'failed', nextAttemptAt: null, attempts: 4 });
    expect(d.announcements.map((a) => a.type)).toEqual(['delivery.exhausted']);
    expect(d.disabled).toBeUndefined();
  });

  it('disables a destination failing for disableAfterMs when a delivery exhausts its schedule', () => {
    const last = delivery({ attempts: 3, cycleAttempts: 3 });
    const since = NOW - settings.disableAfterMs;
    const d = decideAttempt(facts(last, result(null)), failingRun(since), NOW, settings);
    expect(d.disabled).toBe(`failing continuously since ${new Date(since).toISOString()}`);
    expect(d.destination).toEqual({
      failingSince: since,
      alerted: true,
      status: 'disabled',
      disabledReason: d.disabled,
    });
    expect(d.announcements.map((a) => a.type)).toEqual(['delivery.exhausted', 'destination.disabled']);
  });

  it('on 410 Gone dead-letters the delivery at once and disables the destination, once', () => {
    const d = decideAttempt(
      facts(delivery(), result(410, { errorCode: ErrorCode.HTTP_CLIENT_ERROR })),
      HEALTHY_RUN,
      NOW,
      settings,
    );
    expect(d.outcome).toBe('dead-lettered');
    expect(d.delivery).toMatchObject({
      status: 'failed',
      lastError: 'HTTP 410: the receiver says the endpoint is gone',
    });
    expect(d.disabled).toBe('receiver answered 410 Gone');
    expect(d.destination).toMatchObject({ status: 'disabled', disabledReason: 'receiver answered 410 Gone' });
    expect(d.announcements).toEqual([
      {
        type: 'destination.disabled',
        key: `destination.disabled:app:${NOW}`,
        payload: { destinationId: 'app', reason: 'receiver answered 410 Gone' },
      },
    ]);
    const already = { ...failingRun(NOW), status: 'disabled' as const };
    const twice = decideAttempt(facts(delivery(), result(410)), already, NOW, settings);
    expect(twice.disabled).toBeUndefined();
    expect(twice.announcements).toEqual([]);
  });

  it('never announces the failures of operational events (that could loop)', () => {
    const last = delivery({ attempts: 3, cycleAttempts: 3 });
    const exhausted = decideAttempt(facts(last, result(500), true), HEALTHY_RUN, NOW, settings);
    expect(exhausted.outcome).toBe('dead-lettered');
    expect(exhausted.announcements).toEqual([]);
    const failing = decideAttempt(
      facts(delivery({ attempts: 2, cycleAttempts: 2 }), result(500), true),
      HEALTHY_RUN,
      NOW,
      settings,
    );
    expect(failing.announcements).toEqual([]);
  });

  it('counts a manual replay attempt and clears the manual mark', () => {
    const replayed = delivery({ attempts: 4, cycleAttempts: 0, manual: true, status: 'pending' });
    const d = decideAttempt(facts(replayed, result(200)), HEALTHY_RUN, NOW, settings);
    expect(d.delivery).toMatchObject({ attempts: 5, cycleAttempts: 1, manual: false });
  });
});
