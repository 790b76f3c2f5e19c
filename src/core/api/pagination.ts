import { parseDuration } from '../config/units.js';
import { ErrorCode, PatchbayError } from '../errors.js';

/** Query parameters every list endpoint accepts. */
export const pageQuerySchema = {
  cursor: { type: 'string', maxLength: 200, description: 'Opaque cursor from the previous page.' },
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
} as const;

export interface Page<T> {
  data: T[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

/** Cursors are the last id seen, base64url-encoded so clients treat them as opaque. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[\w.-]{1,120}$/.test(value)) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'cursor is not one this API returned');
  }
  return value;
}

/** Builds a page from `limit + 1` rows fetched in id order. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  if (rows.length <= limit) return { data: rows };
  const data = rows.slice(0, limit);
  return { data, nextCursor: encodeCursor(data[data.length - 1]!.id) };
}

/**
 * `since` as an ISO date/time, epoch milliseconds, or a duration before `now` (`90m`, `2h`, `7d`, `1h30m`):
 * `--since 2h` is what people type. `now` is the caller's clock (the engine's, in the API).
 */
export function parseSince(since: string | undefined, now: number): number | undefined {
  if (since === undefined || since === '') return undefined;
  let ms: number;
  if (/^\d+$/.test(since)) ms = Number(since);
  else {
    const ago = parseDuration(since);
    ms = ago !== undefined ? now - ago : Date.parse(since);
  }
  if (!Number.isFinite(ms)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `since must be an ISO date-time, epoch milliseconds or a duration ago (2h, 7d), got ${JSON.stringify(since)}`,
    );
  }
  return ms;
}
