import { parseFinaleTime } from './finale-time.js';

/** An inclusive range per field; `null` leaves that side open, `[v, v]` is an exact match. */
export type Filter = Record<string, [unknown, unknown]>;

export class FilterError extends Error {}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const THIRTY_DAYS = 30 * 24 * 60 * 60 * 1000;

/**
 * `?filter=` is base64 of a JSON object (`{"lastUpdatedDate":["2024-01-01T00:00:00",null]}`). The docs
 * show it unpadded; padded, and the URL-safe alphabet, are accepted too.
 * https://support.finaleinventory.com/hc/en-us/articles/115007830648-Getting-Started-with-the-API
 */
export function decodeFilter(param: string): Filter {
  const text = param.trim();
  if (!BASE64.test(text)) throw new FilterError('filter must be base64-encoded JSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw new FilterError('filter must be base64-encoded JSON');
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    Object.keys(parsed).length === 0
  ) {
    throw new FilterError('filter must be a JSON object of field: [lower, upper]');
  }
  for (const [field, range] of Object.entries(parsed)) {
    if (!Array.isArray(range) || range.length !== 2) {
      throw new FilterError(`filter.${field} must be [lower, upper] (null for an open side)`);
    }
  }
  return parsed as Filter;
}

/**
 * Applies a filter to a collection's entities. Only the collection's top-level scalar fields filter;
 * `lastUpdatedDate` needs a lower bound and spans at most 30 days (the upper bound defaults to now),
 * and is applied first.
 */
export function applyFilter<T extends Record<string, unknown>>(
  rows: readonly T[],
  filter: Filter,
  scalars: ReadonlySet<string>,
  now: number,
): T[] {
  for (const field of Object.keys(filter)) {
    if (!scalars.has(field))
      throw new FilterError(`cannot filter on ${field}: only top-level scalar fields filter`);
  }
  let out = [...rows];
  const updated = filter.lastUpdatedDate;
  if (updated) {
    const lower = parseFinaleTime(updated[0]);
    const upper = updated[1] === null ? now : parseFinaleTime(updated[1]);
    if (lower === undefined || upper === undefined) {
      throw new FilterError('lastUpdatedDate needs a lower bound, and both bounds as yyyy-MM-ddTHH:mm:ss');
    }
    if (upper - lower > THIRTY_DAYS) throw new FilterError('lastUpdatedDate may span at most 30 days');
    out = out.filter((row) => {
      const at = parseFinaleTime(row.lastUpdatedDate);
      return at !== undefined && at >= lower && at <= upper;
    });
  }
  for (const [field, [lower, upper]] of Object.entries(filter)) {
    if (field === 'lastUpdatedDate') continue;
    out = out.filter((row) => within(row[field], lower, upper));
  }
  return out;
}

function within(value: unknown, lower: unknown, upper: unknown): boolean {
  if (value === null || value === undefined) return false;
  const compare = (a: unknown, b: unknown) => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    const [x, y] = [String(a), String(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return (lower === null || compare(value, lower) >= 0) && (upper === null || compare(value, upper) <= 0);
}
