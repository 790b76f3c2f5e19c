import { modifiedProperty } from '../object-type.js';
import type { HubSpotObject } from '../schemas.js';
import { SEARCH_LIMITS, type SearchFilter, type SearchQuery } from './search.js';

export interface WindowedQuery extends Omit<SearchQuery, 'sort' | 'after' | 'limit'> {
  /** Only records last modified at or after this instant (epoch ms). */
  since?: number;
}

export interface WindowPage {
  results: HubSpotObject[];
  /** The last-modified time of the last record of the page (ms): where a resumed read can start. */
  watermark: number | undefined;
}

type RunPage = (query: SearchQuery) => Promise<{ results: HubSpotObject[]; after: string | undefined }>;

/**
 * Every match of a query, past the 10,000 results one search returns: pages sorted by last-modified
 * time, and when a window fills up, a new one starting at the last time seen (the records at that
 * boundary are read again and dropped by id). A window whose 10,000 all share one time is split by
 * `hs_object_id`. A record modified while the read goes on moves ahead and is read again later.
 */
export async function* searchWindows(
  type: string,
  query: WindowedQuery,
  run: RunPage,
): AsyncGenerator<WindowPage> {
  const modified = modifiedProperty(type);
  let lower = query.since;
  /** Reading the records of one instant by id, after a window held nothing else. */
  let tie: { at: number; afterId: string } | undefined;
  /** Ids already given out whose time is `lower` (the next window starts with them again). */
  let seen = new Set<string>();

  for (;;) {
    const bounds: SearchFilter[] = tie
      ? [
          { propertyName: modified, operator: 'EQ', value: tie.at },
          { propertyName: 'hs_object_id', operator: 'GT', value: tie.afterId },
        ]
      : lower === undefined
        ? []
        : [{ propertyName: modified, operator: 'GTE', value: lower }];
    const groups = query.filterGroups?.length
      ? query.filterGroups.map((g) => ({ filters: [...g.filters, ...bounds] }))
      : bounds.length > 0
        ? [{ filters: bounds }]
        : [];
    const sort = { propertyName: tie ? 'hs_object_id' : modified, direction: 'ASCENDING' as const };
    let after: string | undefined;
    let capped = false;
    let lastTime: number | undefined;
    let lastId: string | undefined;
    let atLastTime = new Set<string>();
    do {
      const page = await run({
        ...query,
        filterGroups: groups,
        sort,
        limit: SEARCH_LIMITS.pageSize,
        ...(after && { after }),
      });
      const fresh = page.results.filter((r) => !seen.has(r.id));
      for (const record of page.results) {
        const time = timeOf(record, modified);
        if (time !== lastTime) atLastTime = new Set();
        lastTime = time;
        lastId = record.id;
        atLastTime.add(record.id);
      }
      if (fresh.length > 0) yield { results: fresh, watermark: lastTime };
      after = page.after;
      if (after !== undefined && Number(after) >= SEARCH_LIMITS.results) capped = true;
    } while (after !== undefined && !capped);

    if (tie) {
      if (capped) tie = { at: tie.at, afterId: lastId! };
      else {
        // That instant is done: go on after it.
        lower = tie.at + 1;
        tie = undefined;
        seen = new Set();
      }
      continue;
    }
    if (!capped) return;
    if (lastTime === undefined || lastTime === lower) {
      // 10,000 records of one instant: read that instant by id, skipping what this window gave out.
      tie = { at: lastTime ?? lower ?? 0, afterId: '0' };
      for (const id of atLastTime) seen.add(id);
      continue;
    }
    lower = lastTime;
    seen = atLastTime;
  }
}

function timeOf(record: HubSpotObject, property: string): number | undefined {
  const value = record.properties[property] ?? record.updatedAt;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
