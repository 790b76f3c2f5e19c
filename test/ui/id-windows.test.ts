import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { deliveryFilter } from '../../src/ui/pages/deliveries.js';
import { eventFilter } from '../../src/ui/pages/events.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);

/**
 * `newId` is monotonic per process: after the clock is set backwards, new rows get ids holding the
 * later time. The dashboard's since/until filters must judge the rows' own times, not their ids.
 */
describe('dashboard time filters under a clock set backwards', () => {
  let t: TestEngine | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('shows only the events and deliveries made inside since/until, whatever their ids say', async () => {
    // Whole seconds in the future of every id this process made so far.
    const base = Math.ceil((Date.now() + 10 * HOUR) / 1000) * 1000;
    const clock = new FakeClock(base + 2 * HOUR);
    t = await openTestEngine(
      dialects[0]!,
      {
        destinations: [
          { id: 'app', url: 'https://app.example.com/hooks', secrets: [generateWebhookSecret()] },
        ],
      },
      { clock },
    );
    const late = await t.engine.publish({ source: 'api', type: 'order.created', payload: { n: 'late' } });
    clock.set(base); // backwards: this event's id holds base + 2 h, its received_at base
    const early = await t.engine.publish({ source: 'api', type: 'order.created', payload: { n: 'early' } });
    expect(early.id > late.id).toBe(true);

    const now = clock.now();
    const page = { limit: 50, window: 5000 };
    const sinceHour = { since: iso(base + HOUR) };
    const events = await t.engine.events.browse({ ...eventFilter(sinceHour, now), ...page });
    expect(events.rows.map((e) => e.id)).toEqual([late.id]);
    const deliveries = await t.engine.delivery.browse({ ...deliveryFilter(sinceHour, now), ...page });
    expect(deliveries.rows.map((d) => d.eventId)).toEqual([late.id]);

    // Until base + 3 h holds both: the id ceiling does not cut the early one (its id is before it too).
    const both = { since: iso(base - HOUR), until: iso(base + 3 * HOUR) };
    expect((await t.engine.events.browse({ ...eventFilter(both, now), ...page })).rows).toHaveLength(2);
    // Until base + 1 h holds only the early event, though its id says base + 2 h.
    const untilHour = { until: iso(base + HOUR) };
    const before = await t.engine.events.browse({ ...eventFilter(untilHour, now), ...page });
    expect(before.rows.map((e) => e.id)).not.toContain(late.id);
  });
});
