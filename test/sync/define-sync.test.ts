import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode, isPatchbayError } from '../../src/core/errors.js';
import {
  CursorExpiredError,
  defineSync,
  isCursorExpired,
  nextRunTime,
  parseSchedule,
} from '../../src/sync/index.js';

const schema = z.object({ id: z.string(), name: z.string() });
const fetch = async function* () {};

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isPatchbayError(err, ErrorCode.CONFIG_INVALID)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a CONFIG_INVALID error');
}

describe('defineSync', () => {
  it('normalises a definition: key function from a path, defaults for policy and schedule', () => {
    const sync = defineSync({ id: 'contacts', key: 'props.id', schema, fetch });
    expect(sync.keyOf({ props: { id: 42 } } as never)).toBe('42');
    expect(sync.schedule).toEqual({ kind: 'manual' });
    expect(sync.conflicts).toEqual({ strategy: 'source-wins' });
    expect(sync.deletes).toEqual({ maxShare: 0.2, floor: 10 });
    expect(sync.timeLimitMs).toBe(3_600_000);
    expect(sync.model).toBe('code');
  });

  it('names the field of every problem', () => {
    expect(problem(() => defineSync({ id: 'a b', key: 'id', schema, fetch }))).toMatch(/^defineSync\.id: /);
    expect(
      problem(() => defineSync({ id: 'a', key: 'id', schema, fetch, schedule: 'every tuesday' })),
    ).toMatch(/^defineSync\.schedule: "every tuesday" is neither a duration/);
    expect(problem(() => defineSync({ id: 'a', key: '', schema, fetch }))).toMatch(/^defineSync\.key: /);
    expect(problem(() => defineSync({ id: 'a', key: 'id', schema: {} as never, fetch }))).toMatch(
      /^defineSync\.schema: /,
    );
    expect(
      problem(() =>
        defineSync({ id: 'a', key: 'id', schema, fetch, conflicts: 'newest' as never }, 'syncs[3]'),
      ),
    ).toMatch(/^syncs\[3\]\.conflicts: must be one of "source-wins"/);
    expect(
      problem(() =>
        defineSync({
          id: 'a',
          key: 'id',
          schema,
          fetch,
          conflicts: { strategy: 'field-priority', fields: { email: 'mine' as never } },
        }),
      ),
    ).toMatch(/conflicts\.fields\.email: must be "source" or "local"/);
    expect(
      problem(() => defineSync({ id: 'a', key: 'id', schema, fetch, deletes: { maxShare: 2 } })),
    ).toMatch(/deletes\.maxShare/);
    expect(
      problem(() => defineSync({ id: 'a', key: 'id', schema, fetch, triggers: ['crm.bad segment'] })),
    ).toMatch(/triggers: event filter/);
    expect(problem(() => defineSync({ id: 'a', key: 'id', schema, fetch, shedule: '5m' } as never))).toMatch(
      /defineSync\.shedule: is not a sync definition field/,
    );
  });

  it('refuses a record without an id through the key function', () => {
    const sync = defineSync({ id: 'a', key: 'id', schema, fetch });
    expect(() => sync.keyOf({ name: 'x' } as never)).toThrow(/id: the record has no id/);
  });
});

describe('schedules', () => {
  const t0 = Date.UTC(2026, 0, 1, 0, 7);

  it('runs intervals at a fixed rate without catching up', () => {
    const every = parseSchedule('15m', 's');
    expect(nextRunTime(every, t0, t0 + 60_000)).toBe(t0 + 15 * 60_000);
    // A run longer than the interval is followed at once, once.
    expect(nextRunTime(every, t0, t0 + 40 * 60_000)).toBe(t0 + 40 * 60_000);
    expect(parseSchedule({ every: '1h' }, 's')).toEqual({ kind: 'interval', everyMs: 3_600_000 });
    expect(parseSchedule('every 30s', 's')).toEqual({ kind: 'interval', everyMs: 30_000 });
  });

  it('runs cron schedules at their next instant, in their time zone', () => {
    expect(nextRunTime(parseSchedule('*/15 * * * *', 's'), t0, t0)).toBe(Date.UTC(2026, 0, 1, 0, 15));
    const berlin = parseSchedule({ cron: '0 3 * * *', timezone: 'Europe/Berlin' }, 's');
    expect(nextRunTime(berlin, t0, t0)).toBe(Date.UTC(2026, 0, 1, 2, 0));
  });

  it('refuses schedules that do not parse, naming where', () => {
    expect(problem(() => parseSchedule('5 4', 'syncs[0].schedule'))).toMatch(
      /^syncs\[0\]\.schedule: .*2 fields/,
    );
    expect(problem(() => parseSchedule('500ms', 'x'))).toMatch(/at least 1s/);
    expect(problem(() => parseSchedule({ cron: '0 3 * * *', timezone: 'Mars/Olympus' }, 'x'))).toMatch(
      /^x: /,
    );
  });
});

describe('CursorExpiredError', () => {
  it('is recognised by code and carries where to restart', () => {
    const err = new CursorExpiredError('delta token expired', { restartFrom: { since: 5 }, status: 410 });
    expect(isCursorExpired(err)).toBe(true);
    expect(err.code).toBe(ErrorCode.CURSOR_EXPIRED);
    expect(err.restartFrom).toEqual({ since: 5 });
    expect(isCursorExpired(new Error('x'))).toBe(false);
  });
});
