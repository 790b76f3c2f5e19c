/**
 * GitHub's page-number pagination: `per_page` (default 30, at most 100, silently capped) and `page`,
 * with an RFC 8288 `link` header naming prev, next, last and first — and no `link` header at all when
 * everything fits on one page. Links are absolute and echo the request's own query.
 * https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api
 */
export interface PageRequest {
  /** The canonical URL links point at (GitHub uses `/repositories/{id}/…` there, not the owner/name path). */
  url: string;
  query: Record<string, string | undefined>;
}

export function perPage(value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) return 30;
  return Math.min(n, 100);
}

export function pageOf<T>(
  items: readonly T[],
  request: PageRequest,
): { items: T[]; link: string | undefined } {
  const size = perPage(request.query.per_page);
  const asked = Number(request.query.page);
  const page = Number.isInteger(asked) && asked > 0 ? asked : 1;
  const lastPage = Math.max(1, Math.ceil(items.length / size));
  const slice = items.slice((page - 1) * size, page * size);
  if (lastPage === 1 && page === 1) return { items: slice, link: undefined };
  const to = (n: number) => linkTo(request, { page: String(n) });
  const rels: string[] = [];
  if (page > 1) rels.push(`<${to(Math.min(page - 1, lastPage))}>; rel="prev"`);
  if (page < lastPage) rels.push(`<${to(page + 1)}>; rel="next"`, `<${to(lastPage)}>; rel="last"`);
  if (page > 1) rels.push(`<${to(1)}>; rel="first"`);
  return { items: slice, link: rels.join(', ') };
}

/**
 * Cursor pagination (hook deliveries): the cursor is opaque and there is only ever a `next` link —
 * no `last`, since the end is not counted.
 */
export function cursorPageOf<T extends { id: number }>(
  items: readonly T[],
  request: PageRequest,
): { items: T[]; link: string | undefined } | { error: string } {
  const size = perPage(request.query.per_page);
  let start = 0;
  if (request.query.cursor !== undefined && request.query.cursor !== '') {
    const id = decodeCursor(request.query.cursor);
    start = id === undefined ? -1 : items.findIndex((item) => item.id === id);
    if (start < 0) return { error: 'cursor' };
  }
  const slice = items.slice(start, start + size);
  const next = items[start + size];
  if (!next) return { items: slice, link: undefined };
  return { items: slice, link: `<${linkTo(request, { cursor: encodeCursor(next.id) })}>; rel="next"` };
}

function linkTo(request: PageRequest, set: Record<string, string>): string {
  const url = new URL(request.url);
  for (const [k, v] of Object.entries(request.query))
    if (v !== undefined && !(k in set)) url.searchParams.set(k, v);
  for (const [k, v] of Object.entries(set)) url.searchParams.set(k, v);
  return url.toString();
}

function encodeCursor(id: number): string {
  return Buffer.from(`v1:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const match = /^v1:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}
