import type { FastifyInstance } from 'fastify';
import type { StoredRecord } from './crm-store.js';
import { type FakeContext, jsonBody, route } from './fake-context.js';
import { validation } from './fake-errors.js';
import { listParam } from './paging.js';
import { viewRecord } from './record-view.js';
import { compare, matches, planSearch, SEARCH_LIMITS } from './search.js';

/**
 * `POST /crm/v3/objects/{type}/search`: filters, one sort, a free-text `query`, pages of up to 200 by
 * offset (`paging.next.after`), at most 10,000 results per query (asking past them is a 400), bodies of
 * at most 3,000 characters. It reads the search index, which excludes archived records and shows
 * writes only after `searchLagMs`.
 */
export function searchRoutes(app: FastifyInstance, ctx: FakeContext): void {
  const { store, associations } = ctx;
  app.post(
    '/crm/v3/objects/:type/search',
    route(async (request) => {
      const size = request.rawBody?.length ?? 0;
      if (size > SEARCH_LIMITS.bodyChars) {
        throw validation(
          `The request body is ${size} characters; the search API takes at most ${SEARCH_LIMITS.bodyChars}`,
        );
      }
      const state = store.type((request.params as { type: string }).type);
      const body = jsonBody(request);
      const plan = planSearch(body, state.properties);
      const limit = body.limit === undefined ? 10 : Number(body.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMITS.pageSize) {
        throw validation(
          `limit must be an integer from 1 to ${SEARCH_LIMITS.pageSize}, got ${String(body.limit).slice(0, 20)}`,
        );
      }
      const offset = body.after === undefined || body.after === '' ? 0 : Number(body.after);
      if (!Number.isInteger(offset) || offset < 0)
        throw validation(`after must be a number of results, got ${String(body.after).slice(0, 20)}`);
      if (offset >= SEARCH_LIMITS.results) {
        throw validation(
          `Search results are limited to ${SEARCH_LIMITS.results} per query: narrow the filters to see more (after=${offset})`,
        );
      }

      const found: { record: StoredRecord; values: Readonly<Record<string, string>> }[] = [];
      for (const record of state.records.values()) {
        const indexed = store.searchView(record);
        if (!indexed || indexed.archived) continue;
        if (matches(plan, indexed.properties, state.properties, state.type.searchable))
          found.push({ record, values: indexed.properties });
      }
      const sort = plan.sort;
      const definition = sort ? state.properties.get(sort.propertyName) : undefined;
      if (sort && !definition) throw validation(`There is no property ${sort.propertyName} to sort on`);
      found.sort((a, b) => {
        if (sort && definition) {
          const x = a.values[sort.propertyName];
          const y = b.values[sort.propertyName];
          const byValue =
            x === undefined ? (y === undefined ? 0 : 1) : y === undefined ? -1 : compare(x, y, definition);
          if (byValue !== 0) return sort.descending ? -byValue : byValue;
        }
        return Number(a.record.id) - Number(b.record.id);
      });
      const properties = listParam(body.properties);
      const page = found.slice(offset, Math.min(offset + limit, SEARCH_LIMITS.results));
      const next = offset + page.length;
      return {
        total: found.length,
        results: page.map(({ record, values }) =>
          viewRecord(store, associations, record, { properties }, values),
        ),
        // Offered even at 10,000: following it is the 400 a client must expect.
        ...(next < found.length && page.length > 0 && { paging: { next: { after: String(next) } } }),
      };
    }),
  );
}
