import { CronExpressionParser } from 'cron-parser';
import { formatDuration, parseDuration } from '../core/config/units.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';

/**
 * When a sync runs by itself: every interval (`15m`, `{ every: '1h' }`), on a cron expression
 * (`*\/15 * * * *`, `{ cron: '0 3 * * *', timezone: 'Europe/Berlin' }`), or never (`manual`: by hand and
 * by events only).
 */
export type ScheduleInput =
  | string
  | number
  | { every: string | number }
  | { cron: string; timezone?: string };

export type Schedule =
  | { readonly kind: 'interval'; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly expression: string; readonly timezone: string }
  | { readonly kind: 'manual' };

/** Shortest interval accepted: a sync polling faster is better served by webhooks. */
export const MIN_INTERVAL_MS = 1000;

/** Parses a schedule; a bad one fails with `CONFIG_INVALID` naming `where` (`syncs[2].schedule`). */
export function parseSchedule(input: ScheduleInput | undefined, where: string): Schedule {
  if (input === undefined || input === 'manual') return { kind: 'manual' };
  if (typeof input === 'number' || (typeof input === 'object' && input !== null && 'every' in input)) {
    return interval(typeof input === 'number' ? input : input.every, where);
  }
  if (typeof input === 'object' && input !== null && 'cron' in input) {
    return cron(input.cron, input.timezone ?? 'UTC', where);
  }
  if (typeof input !== 'string') {
    throw invalid(where, `must be a duration ("15m"), a cron expression or "manual", got ${typeof input}`);
  }
  const text = input.trim().replace(/^every\s+/i, '');
  if (parseDuration(text) !== undefined) return interval(text, where);
  return cron(input, 'UTC', where);
}

/**
 * The next run after one that started at `startedAt` and finished at `finishedAt`: intervals run at a
 * fixed rate without catching up (a run longer than the interval is followed at once, not twice), cron
 * at its next instant after the finish. Null for a manual schedule.
 */
export function nextRunTime(schedule: Schedule, startedAt: number, finishedAt: number): number | null {
  switch (schedule.kind) {
    case 'manual':
      return null;
    case 'interval':
      return Math.max(startedAt + schedule.everyMs, finishedAt);
    case 'cron':
      return CronExpressionParser.parse(schedule.expression, {
        currentDate: new Date(finishedAt),
        tz: schedule.timezone,
      })
        .next()
        .getTime();
  }
}

export function describeSchedule(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'manual':
      return 'manual';
    case 'interval':
      return `every ${formatDuration(schedule.everyMs)}`;
    case 'cron':
      return schedule.timezone === 'UTC'
        ? schedule.expression
        : `${schedule.expression} (${schedule.timezone})`;
  }
}

function interval(value: string | number, where: string): Schedule {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw invalid(where, `must be a duration like "15m" or "1h", got ${JSON.stringify(value)}`);
  if (ms < MIN_INTERVAL_MS) throw invalid(where, `must be at least 1s, got ${JSON.stringify(value)}`);
  return { kind: 'interval', everyMs: ms };
}

function cron(expression: string, timezone: string, where: string): Schedule {
  const fields = expression.trim().split(/\s+/).length;
  try {
    // cron-parser fills in missing fields ("5 4" parses): a schedule must spell out 5 or 6 of them.
    if (!expression.trim().startsWith('@') && fields !== 5 && fields !== 6) {
      throw new Error(`it has ${fields} fields, not 5 (minute hour day month weekday) or 6 (with seconds)`);
    }
    // Asking for the next instant also proves the time zone exists.
    CronExpressionParser.parse(expression, { tz: timezone }).next();
  } catch (err) {
    throw invalid(
      where,
      `${JSON.stringify(expression)} is neither a duration ("15m") nor a cron expression ("*/15 * * * *"): ${errorMessage(err)}`,
    );
  }
  return { kind: 'cron', expression: expression.trim(), timezone };
}

function invalid(where: string, message: string): PatchbayError {
  return new PatchbayError(ErrorCode.CONFIG_INVALID, `${where}: ${message}`);
}

/** The usual time between two scheduled runs (for staleness), undefined for a manual schedule. */
export function scheduleGap(schedule: Schedule, now: number): number | undefined {
  switch (schedule.kind) {
    case 'manual':
      return undefined;
    case 'interval':
      return schedule.everyMs;
    case 'cron': {
      const times = CronExpressionParser.parse(schedule.expression, {
        currentDate: new Date(now),
        tz: schedule.timezone,
      });
      const first = times.next().getTime();
      return times.next().getTime() - first;
    }
  }
}
