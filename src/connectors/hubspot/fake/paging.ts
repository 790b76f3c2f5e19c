import { validation } from './fake-errors.js';

/**
 * List cursors (`paging.next.after`): where the next page starts, and when the cursor was issued. A
 * cursor older than the fake's `cursorTtlMs` is refused, so a sync that resumes a listing hours later
 * sees the expiry it must handle. HubSpot does not document the answer; this one is a 400
 * `VALIDATION_ERROR` saying the cursor expired.
 */
export class Cursors {
  constructor(
    private readonly now: () => number,
    private readonly ttlMs: () => number,
  ) {}

  issue(position: string): string {
    return Buffer.from(`${position}|${this.now()}`, 'utf8').toString('base64url');
  }

  /** The position a cursor stands for, or HubSpot's 400. */
  read(after: string): string {
    const [position, issued] = Buffer.from(after, 'base64url').toString('utf8').split('|');
    if (!position || !/^\d+$/.test(position) || !issued || !/^\d+$/.test(issued)) {
      throw validation(`The paging cursor "${after.slice(0, 40)}" is not valid`, {
        subCategory: 'PAGING_CURSOR_INVALID',
      });
    }
    if (this.now() - Number(issued) > this.ttlMs()) {
      throw validation('The paging cursor has expired; start the listing again from the first page', {
        subCategory: 'PAGING_CURSOR_EXPIRED',
      });
    }
    return position;
  }
}

/** A query parameter that may be repeated or comma-separated (`properties=a,b&properties=c`). */
export function listParam(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const values = Array.isArray(value) ? value : [value];
  return values
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** `true`/`false` query flags as HubSpot reads them. */
export function flag(value: unknown): boolean {
  return value === true || value === 'true';
}
