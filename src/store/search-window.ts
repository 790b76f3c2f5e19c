/**
 * Newest-first pages over a table whose ids sort by creation time, each reading a bounded stretch of
 * the table however rare the filter: a page looks at most `window` rows back (the "search window"), so
 * a filter nothing matches answers as fast as one everything matches, and says how far back it looked.
 * The next page continues where the window ended. See docs/decisions/0102-dashboard-search-window.md.
 */
export interface WindowQuery {
  /** Rows with ids below this one (the page cursor); the newest when absent. */
  before?: string;
  /** Rows with ids at or above this one (the `since` time as an id). */
  floor?: string;
  /** Rows with ids below this one (the `until` time as an id). */
  ceiling?: string;
  /**
   * The rows' own creation time (ms), at or after / before, checked on each row: `newId` is monotonic
   * per process, so after a clock set backwards (a fake clock, an NTP step) a row's id holds a later time
   * than the row, and `floor`/`ceiling` alone would take in rows from before `since`.
   */
  since?: number;
  until?: number;
  limit: number;
  /** At most this many rows are looked at for one page. */
  window: number;
}

export interface WindowPage<T> {
  rows: T[];
  /** Continue with `before: next`; absent when nothing older can match. */
  next?: string;
  /**
   * Set when the window ended before `limit` rows matched: the page looked back to this id (exclusive)
   * and the next page goes on from there.
   */
  searchedTo?: string;
}

/** The id range one page reads: below `upper`, at or above `lower`. */
export interface WindowRange {
  upper: string | undefined;
  lower: string | undefined;
  /** The window, not the filter's own bound, ends the range: older rows may still match. */
  cut: boolean;
}

/**
 * Works out the range of a page: `idAt(upper, lower, offset)` returns the id `offset` rows down from
 * `upper` (exclusive) within `lower`, or undefined when fewer rows are there.
 */
export async function windowRange(
  query: WindowQuery,
  idAt: (upper: string | undefined, lower: string | undefined, offset: number) => Promise<string | undefined>,
): Promise<WindowRange> {
  // The lower of the cursor and the `until` bound (ids are strings: no Math.min).
  const upper = [query.before, query.ceiling].filter((b): b is string => b !== undefined).sort()[0];
  const edge = await idAt(upper, query.floor, query.window - 1);
  if (edge === undefined) return { upper, lower: query.floor, cut: false };
  return { upper, lower: edge, cut: true };
}

/** The page from the `limit + 1` rows read newest first within `range`. */
export function windowPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  range: WindowRange,
): WindowPage<T> {
  if (rows.length > limit) {
    const page = rows.slice(0, limit);
    return { rows: page, next: page[page.length - 1]!.id };
  }
  return range.cut && range.lower !== undefined
    ? { rows, next: range.lower, searchedTo: range.lower }
    : { rows };
}
