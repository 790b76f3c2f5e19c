import { invalidOption } from './options.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Checks an IANA time zone name (`Europe/Berlin`, `UTC`) eagerly; returns it. */
export function checkTimeZone(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalidOption(name, 'an IANA time zone name', value);
  try {
    formatter(value);
  } catch {
    throw invalidOption(name, 'an IANA time zone name such as "UTC" or "America/New_York"', value);
  }
  return value;
}

/**
 * The calendar day containing `now` in `timeZone`, as epoch ms: `[start, end)`. A day with a daylight
 * saving change is 23 or 25 hours long. (HubSpot's daily count resets at midnight in the account's
 * time zone: https://developers.hubspot.com/docs/api/usage-details.)
 */
export function calendarDay(now: number, timeZone: string): { start: number; end: number } {
  const start = startOfDay(now, timeZone);
  // 26 h past a midnight is always inside the next day, whether this one has 23, 24 or 25 hours.
  return { start, end: startOfDay(start + 26 * 3_600_000, timeZone) };
}

function startOfDay(now: number, timeZone: string): number {
  const { year, month, day } = localParts(now, timeZone);
  const midnightAsUtc = Date.UTC(year, month - 1, day);
  // The offset at midnight may differ from the offset now (a change during the day): ask again there.
  let start = midnightAsUtc - offsetAt(now, timeZone);
  start = midnightAsUtc - offsetAt(start, timeZone);
  return start;
}

/** Local time minus UTC at `at`, in ms. */
function offsetAt(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  const local = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return local - Math.floor(at / 1000) * 1000;
}

function localParts(at: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}
