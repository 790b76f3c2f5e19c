import { parseSince } from '../core/api/pagination.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';

/** Query fields as a filter form sends them: every value a string; empty means "not set". */
export type FormQuery = Record<string, string | undefined>;

export function field(query: FormQuery, name: string, max = 200): string | undefined {
  const value = query[name]?.trim();
  if (value === undefined || value === '') return undefined;
  if (value.length > max) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `${name} is longer than ${max} characters`);
  }
  return value;
}

/**
 * A time field: a duration ago (`2h`, `7d`), an ISO date-time, epoch ms, or what a `datetime-local`
 * input sends (`2026-03-01T10:00`, read as UTC, as every time on these pages is shown).
 */
export function timeField(query: FormQuery, name: string, now: number): number | undefined {
  const value = field(query, name, 40);
  if (value === undefined) return undefined;
  const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/.test(value) ? `${value}Z` : value;
  try {
    return parseSince(local, now);
  } catch {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `${name} must be a time (2026-03-01T10:00, in UTC) or a duration ago (2h, 7d), got ${JSON.stringify(value)}`,
    );
  }
}

export function oneOf<T extends string>(query: FormQuery, name: string, values: readonly T[]): T | undefined {
  const value = field(query, name, 40);
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `${name} must be one of ${values.join(', ')}`);
  }
  return value as T;
}

/** `500`, `5xx` or `400-499`, as an inclusive range of HTTP status codes. */
export function statusRange(query: FormQuery, name: string): { min: number; max: number } | undefined {
  const value = field(query, name, 20)?.toLowerCase();
  if (value === undefined) return undefined;
  let match = /^([1-5])xx$/.exec(value);
  if (match) return { min: Number(match[1]) * 100, max: Number(match[1]) * 100 + 99 };
  match = /^(\d{3})(?:-(\d{3}))?$/.exec(value);
  if (match && Number(match[1]) >= 100 && Number(match[2] ?? match[1]) <= 599) {
    const min = Number(match[1]);
    const max = Number(match[2] ?? match[1]);
    if (min <= max) return { min, max };
  }
  throw new PatchbayError(
    ErrorCode.INVALID_ARGUMENT,
    `${name} must be a status (503), a class (5xx) or a range (400-499), got ${JSON.stringify(value)}`,
  );
}

/** A page cursor: an id this UI put in a link. */
export function cursorField(query: FormQuery, name: string): string | undefined {
  const value = field(query, name, 120);
  if (value !== undefined && !/^[\w-]{1,120}$/.test(value)) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `${name} is not a cursor this page made`);
  }
  return value;
}

/** The query string of `query` with `changes` applied (undefined removes a field). */
export function withQuery(path: string, query: FormQuery, changes: FormQuery): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...query, ...changes })) {
    if (v !== undefined && v !== '' && k !== 'notice' && k !== 'problem') params.set(k, v);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The id a reconnecting EventSource sends back (the last row it got). */
export function lastEventId(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers['last-event-id'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
