import type { DeclarativeRequest } from '../../core/config/syncs.js';
import { ErrorCode, isPatchbayError, PatchbayError } from '../../core/errors.js';
import type { QueryValue } from '../../http/http-types.js';
import { nextLink } from '../../http/link-header.js';
import { CursorExpiredError } from '../cursor-expired.js';
import { toMillis, valueAt } from '../define-sync.js';
import type { FetchContext } from '../fetch-context.js';
import type { JsonValue, SyncPage } from '../page.js';
import { parseBody, recordsAt } from './body.js';

/** Where the next page is: a cursor, a URL, an offset or a page number. */
type NextPage = { cursor: string } | { url: string } | { offset: number } | { page: number };

/**
 * The checkpoint of a declarative sync: `watermark`, the newest `incremental.field` value of the last
 * complete pass; and while a pass is under way, where it is (`pass.next`, with the `since` it started
 * from and the newest value it saw). The watermark moves only when a pass completes, so an unsorted
 * source loses nothing to a crash mid-pass (Singer's signposts), and the next pass re-reads from the
 * watermark minus the lookback: the boundary records come again and are recognised by key and hash.
 */
interface DeclarativeCheckpoint {
  watermark?: string | number | null;
  pass?: { since: string | number | null; next: NextPage; seen: string | number | null };
}

/** The fetch of a declarative sync (`syncs[i].request`), for any HTTP API, in the config file. */
export function declarativeFetch(request: DeclarativeRequest, where: string) {
  return async function* fetch(ctx: FetchContext): AsyncGenerator<SyncPage> {
    const cp = (ctx.checkpoint ?? {}) as DeclarativeCheckpoint;
    const incremental = request.incremental;
    const watermark = cp.watermark ?? null;
    let since: string | number | null = null;
    if (ctx.mode === 'incremental' && incremental)
      since = cp.pass?.since ?? sinceParam(watermark, incremental);
    let next: NextPage | undefined = cp.pass?.next;
    let seen: string | number | null = cp.pass?.seen ?? watermark;
    const cursors = new Set<string>();
    for (;;) {
      const call = buildRequest(request, next, since, incremental?.param);
      let response: Awaited<ReturnType<typeof ctx.http.request>>;
      try {
        response = await ctx.http.request({ ...call, signal: ctx.signal });
      } catch (err) {
        if (
          isPatchbayError(err) &&
          err.status !== undefined &&
          request.cursorExpired.includes(err.status) &&
          next
        ) {
          throw new CursorExpiredError(
            `${where}: the provider no longer accepts the page cursor (${err.status})`,
            {
              restartFrom: { watermark } as JsonValue,
              status: err.status,
              cause: err,
            },
          );
        }
        throw err;
      }
      const parsed = await parseBody(
        response.body,
        response.headers['content-type'],
        request.format,
        `${where}.request`,
      );
      const items = recordsAt(parsed, request.records, `${where}.request.records`);
      const records: unknown[] = [];
      const deleted: string[] = [];
      for (const item of items) {
        if (incremental) seen = newer(seen, valueAt(item, incremental.field));
        if (request.deleted && isDeleted(valueAt(item, request.deleted.field), request.deleted.value)) {
          const id = valueAt(item, request.id);
          if (typeof id === 'string' || typeof id === 'number') deleted.push(String(id));
          continue;
        }
        records.push(item);
      }
      next = nextPage(request, parsed, response.headers, next, items.length);
      if (next && 'cursor' in next) {
        if (cursors.has(next.cursor)) {
          throw new PatchbayError(
            ErrorCode.RESPONSE_INVALID,
            `${where}: the provider returned the same cursor twice; stopping instead of looping`,
          );
        }
        cursors.add(next.cursor);
      }
      if (!next) {
        yield { records, deleted, checkpoint: { watermark: seen } };
        return;
      }
      yield {
        records,
        deleted,
        checkpoint: { watermark, pass: { since, next, seen } } as unknown as JsonValue,
      };
    }
  };
}

function buildRequest(
  request: DeclarativeRequest,
  next: NextPage | undefined,
  since: string | number | null,
  sinceName: string | undefined,
): { path: string; query?: Record<string, QueryValue>; headers?: Record<string, string> } {
  const headers = request.headers;
  if (next && 'url' in next) return { path: next.url, ...(headers && { headers }) };
  const query: Record<string, QueryValue> = { ...request.query };
  if (since !== null && sinceName) query[sinceName] = since;
  const p = request.pagination;
  if (p.style === 'cursor' && next && 'cursor' in next) query[p.cursorParam] = next.cursor;
  if (p.style === 'offset') {
    query[p.offsetParam] = next && 'offset' in next ? next.offset : 0;
    query[p.limitParam] = p.size;
  }
  if (p.style === 'page') {
    query[p.pageParam] = next && 'page' in next ? next.page : p.first;
    query[p.sizeParam] = p.size;
  }
  return { path: request.path, query, ...(headers && { headers }) };
}

function nextPage(
  request: DeclarativeRequest,
  body: unknown,
  headers: Record<string, string>,
  current: NextPage | undefined,
  count: number,
): NextPage | undefined {
  const p = request.pagination;
  switch (p.style) {
    case 'none':
      return undefined;
    case 'cursor': {
      const cursor = valueAt(body, p.cursorPath);
      return typeof cursor === 'string' && cursor !== ''
        ? { cursor }
        : typeof cursor === 'number'
          ? { cursor: String(cursor) }
          : undefined;
    }
    case 'link': {
      const url = nextLink(headers.link);
      return url ? { url } : undefined;
    }
    case 'next-url': {
      const url = valueAt(body, p.nextPath);
      return typeof url === 'string' && url !== '' ? { url } : undefined;
    }
    case 'offset': {
      if (count < p.size) return undefined;
      return { offset: (current && 'offset' in current ? current.offset : 0) + count };
    }
    case 'page': {
      if (count < p.size) return undefined;
      return { page: (current && 'page' in current ? current.page : p.first) + 1 };
    }
  }
}

/** The newer of two watermark values (ISO strings or epoch numbers), as the source wrote it. */
function newer(current: string | number | null, value: unknown): string | number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return current;
  const ms = toMillis(value);
  if (ms === undefined) return current;
  if (current === null) return value;
  return ms > (toMillis(current) ?? Number.NEGATIVE_INFINITY) ? value : current;
}

function sinceParam(
  watermark: string | number | null,
  incremental: NonNullable<DeclarativeRequest['incremental']>,
): string | number | null {
  if (watermark === null) return null;
  const ms = toMillis(watermark);
  if (ms === undefined) return null;
  const from = ms - incremental.lookback;
  if (incremental.format === 'epoch-ms') return from;
  if (incremental.format === 'epoch-s') return Math.floor(from / 1000);
  return new Date(from).toISOString();
}

function isDeleted(value: unknown, expected: string | number | boolean): boolean {
  return value === expected || (typeof value === 'string' && value === String(expected));
}
