import type { AttemptUpdate, Delivery, DestinationRun } from '../../store/delivery-store.js';
import type { AttemptResult } from './http-sender.js';
import { nextRetryDelay, type ScheduleOptions } from './retry-schedule.js';

export type { DestinationRun };

export const HEALTHY_RUN: DestinationRun = Object.freeze({
  failingSince: null,
  alerted: false,
  status: 'enabled',
});

/** An operational event to publish once the decision is committed. */
export interface Announcement {
  type: string;
  key: string;
  payload: Record<string, unknown>;
}

export interface AttemptFacts {
  delivery: Delivery;
  destinationId: string;
  result: AttemptResult;
  /** The event is itself operational (source `patchbay`): its failures are not announced again. */
  operational: boolean;
}

export interface RuleSettings {
  schedule?: ScheduleOptions;
  /** A destination failing continuously this long is disabled when a delivery exhausts its schedule. */
  disableAfterMs: number;
  /** Failed attempts in a cycle before `delivery.failing` is published. */
  failingAfter: number;
  /** The retry jitter's randomness. */
  random: () => number;
}

/** What one attempt leads to. */
export interface AttemptDecision {
  /** The delivery's next state. */
  delivery: AttemptUpdate;
  /** The destination's run after this attempt; undefined when unchanged. */
  destination: DestinationRun | undefined;
  /** When to try again, if ever. */
  next: number | undefined;
  /** `retrying` (a later attempt is scheduled) or `dead-lettered` (no more attempts). */
  outcome: 'succeeded' | 'retrying' | 'dead-lettered';
  /** The reason, when this attempt disabled the destination. */
  disabled: string | undefined;
  announcements: Announcement[];
}

/**
 * The delivery rules, as a function of an attempt's facts, its destination's run and the time: only 2xx
 * succeeds; failures follow the retry schedule (with jitter, a longer minimum after 429s and timeouts, a
 * bounded `Retry-After`); an exhausted schedule dead-letters the delivery; 410 dead-letters it and disables
 * the destination; a destination failing for `disableAfterMs` is disabled when a delivery exhausts its
 * schedule; `delivery.failing` after `failingAfter` failures in a cycle, `delivery.exhausted`,
 * `destination.disabled` and `destination.recovered` (after an alerted run) are announced.
 */
export function decideAttempt(
  facts: AttemptFacts,
  run: DestinationRun,
  now: number,
  settings: RuleSettings,
): AttemptDecision {
  const { delivery, destinationId, result, operational } = facts;
  const attempt = delivery.attempts + 1;
  const cycle = delivery.cycleAttempts + 1;
  const common = {
    id: delivery.id,
    status: null,
    succeededAt: null,
    failingNotified: null,
    attempts: attempt,
    cycleAttempts: cycle,
    lastStatus: result.statusCode,
    manual: false,
    updatedAt: now,
  };

  if (result.outcome === 'succeeded') {
    const recovered = run.failingSince !== null && run.alerted;
    return {
      delivery: {
        ...common,
        status: 'succeeded',
        succeededAt: now,
        nextAttemptAt: null,
        lastError: null,
      },
      destination: run.failingSince === null ? undefined : { ...run, failingSince: null, alerted: false },
      next: undefined,
      outcome: 'succeeded',
      disabled: undefined,
      announcements: recovered
        ? [
            {
              type: 'destination.recovered',
              key: `destination.recovered:${destinationId}:${run.failingSince}`,
              payload: { destinationId, failingSince: iso(run.failingSince!) },
            },
          ]
        : [],
    };
  }

  const failingSince = run.failingSince ?? now;
  const errorText = result.errorMessage ?? `HTTP ${result.statusCode}`;
  const payload = {
    deliveryId: delivery.id,
    eventId: delivery.eventId,
    destinationId,
    attempts: attempt,
    lastStatus: result.statusCode,
    lastError: errorText,
  };
  const announcements: Announcement[] = [];
  const disable = (reason: string): string | undefined => {
    if (run.status === 'disabled') return undefined;
    announcements.push({
      type: 'destination.disabled',
      key: `destination.disabled:${destinationId}:${now}`,
      payload: { destinationId, reason },
    });
    return reason;
  };
  const after = (alerted: boolean, disabled: string | undefined): DestinationRun | undefined => {
    const next: DestinationRun = {
      failingSince,
      alerted: run.alerted || alerted,
      status: disabled ? 'disabled' : run.status,
      ...(disabled && { disabledReason: disabled }),
    };
    const same =
      next.failingSince === run.failingSince && next.alerted === run.alerted && next.status === run.status;
    return same ? undefined : next;
  };

  if (result.gone) {
    const disabled = disable('receiver answered 410 Gone');
    return {
      delivery: {
        ...common,
        status: 'failed',
        nextAttemptAt: null,
        lastError: `${errorText}: the receiver says the endpoint is gone`,
      },
      destination: after(false, disabled),
      next: undefined,
      outcome: 'dead-lettered',
      disabled,
      announcements,
    };
  }

  const delay = nextRetryDelay(
    cycle,
    {
      overloaded: result.overloaded,
      ...(result.retryAfterMs !== undefined && { retryAfterMs: result.retryAfterMs }),
    },
    settings.schedule,
    settings.random,
  );
  // Failures delivering operational events are not announced again: that could loop forever.
  if (delay === undefined) {
    if (!operational)
      announcements.push({
        type: 'delivery.exhausted',
        key: `delivery.exhausted:${delivery.id}:${attempt}`,
        payload,
      });
    const disabled =
      now - failingSince >= settings.disableAfterMs
        ? disable(`failing continuously since ${iso(failingSince)}`)
        : undefined;
    return {
      delivery: { ...common, status: 'failed', nextAttemptAt: null, lastError: errorText },
      destination: after(true, disabled),
      next: undefined,
      outcome: 'dead-lettered',
      disabled,
      announcements,
    };
  }

  const next = now + delay;
  const notify = cycle >= settings.failingAfter && !delivery.failingNotified;
  if (notify && !operational)
    announcements.push({
      type: 'delivery.failing',
      key: `delivery.failing:${delivery.id}:${attempt}`,
      payload,
    });
  return {
    delivery: {
      ...common,
      nextAttemptAt: next,
      lastError: errorText,
      ...(notify && { failingNotified: true }),
    },
    destination: after(notify, undefined),
    next,
    outcome: 'retrying',
    disabled: undefined,
    announcements,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
