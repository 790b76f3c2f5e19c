import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { HttpClient } from './create-http-client.js';
import type { HttpRequest, HttpResponse } from './http-types.js';
import { nextLink } from './link-header.js';

/**
 * How an API says where the next page is.
 * - `cursor`: a field of the body holds the next cursor, sent back as a query parameter (HubSpot:
 *   `{ kind: 'cursor', next: 'paging.next.after', param: 'after' }`, items under `results`).
 * - `link`: the `Link` header's `rel="next"` URL (GitHub); items are the body itself by default.
 * - `odata`: `@odata.nextLink` in the body, followed verbatim (Graph); items under `value`.
 * - `starting-after`: while `has_more` is true, the last item's `id` is sent as `starting_after`
 *   (Stripe); items under `data`.
 * `items` is a dot path to the page's array.
 */
export type PageStrategy =
  | { kind: 'cursor'; next: string; param: string; items?: string }
  | { kind: 'link'; items?: string }
  | { kind: 'odata'; items?: string }
  | { kind: 'starting-after'; items?: string };

export interface Page<T> {
  items: T[];
  response: HttpResponse;
}

export interface PaginateOptions {
  /** Stops after this many pages. Defaults to 10 000 (a runaway guard, not a limit to rely on). */
  maxPages?: number;
}

/** Every page, one request at a time; a cursor or link seen twice fails with `RESPONSE_INVALID` instead of looping. */
export async function* paginatePages<T = unknown>(
  client: HttpClient,
  request: HttpRequest,
  strategy: PageStrategy,
  options: PaginateOptions = {},
): AsyncGenerator<Page<T>> {
  const maxPages = options.maxPages ?? 10_000;
  const seen = new Set<string>();
  let current: HttpRequest = request;
  for (let page = 0; page < maxPages; page++) {
    const { schema: _schema, ...plain } = current;
    const response = await client.request(plain);
    yield { items: itemsOf<T>(response.body, strategy), response };
    const next = nextRequest(request, current, response, strategy);
    if (next === undefined) return;
    if (seen.has(next.key)) {
      throw new PatchbayError(
        ErrorCode.RESPONSE_INVALID,
        `${client.name} returned the same next page twice (${strategy.kind}); stopping instead of looping`,
      );
    }
    seen.add(next.key);
    current = next.request;
  }
}

/** Every item of every page. */
export async function* paginate<T = unknown>(
  client: HttpClient,
  request: HttpRequest,
  strategy: PageStrategy,
  options: PaginateOptions = {},
): AsyncGenerator<T> {
  for await (const page of paginatePages<T>(client, request, strategy, options)) yield* page.items;
}

function nextRequest(
  first: HttpRequest,
  current: HttpRequest,
  response: HttpResponse,
  strategy: PageStrategy,
): { key: string; request: HttpRequest } | undefined {
  switch (strategy.kind) {
    case 'cursor': {
      const cursor = at(response.body, strategy.next);
      if (cursor === undefined || cursor === null || cursor === '') return undefined;
      const value = String(cursor);
      return { key: value, request: { ...current, query: { ...current.query, [strategy.param]: value } } };
    }
    case 'link': {
      const link = nextLink(response.headers.link);
      return link === undefined ? undefined : followLink(first, link);
    }
    case 'odata': {
      const link = at(response.body, '@odata.nextLink');
      return typeof link === 'string' && link !== '' ? followLink(first, link) : undefined;
    }
    case 'starting-after': {
      if (at(response.body, 'has_more') !== true) return undefined;
      const last = itemsOf<unknown>(response.body, strategy).at(-1);
      const id = at(last, 'id');
      if (typeof id !== 'string' || id === '') {
        throw new PatchbayError(
          ErrorCode.RESPONSE_INVALID,
          'a page said has_more but its last item has no id to continue after',
        );
      }
      return { key: id, request: { ...current, query: { ...current.query, starting_after: id } } };
    }
  }
}

/** A next link already carries its query (and `$skip`/`$skiptoken`); it is followed verbatim. */
function followLink(first: HttpRequest, link: string): { key: string; request: HttpRequest } {
  const { query: _query, ...rest } = first;
  return { key: link, request: { ...rest, path: link } };
}

const DEFAULT_ITEMS: Record<PageStrategy['kind'], string> = {
  cursor: 'results',
  link: '',
  odata: 'value',
  'starting-after': 'data',
};

function itemsOf<T>(body: unknown, strategy: PageStrategy): T[] {
  const path = strategy.items ?? DEFAULT_ITEMS[strategy.kind];
  const items = path === '' ? body : at(body, path);
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items)) {
    throw new PatchbayError(
      ErrorCode.RESPONSE_INVALID,
      `expected an array of items at "${path || '(body)'}" in a page, got ${typeof items}`,
    );
  }
  return items as T[];
}

/** The value at a dot path; a key that itself contains dots (`@odata.nextLink`) is tried whole first. */
function at(value: unknown, path: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (path in record) return record[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  return at(record[path.slice(0, dot)], path.slice(dot + 1));
}
