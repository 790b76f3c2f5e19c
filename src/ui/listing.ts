import { idTime } from '../core/ids.js';
import { type FormQuery, withQuery } from './filters.js';
import { count, when } from './format.js';
import { type Html, html } from './html.js';

/** Rows each list page shows. */
export const PAGE_SIZE = 50;
/** Rows a list page looks at, at most, to find its PAGE_SIZE matches (search-window.ts). */
export const SEARCH_WINDOW = 20_000;
/**
 * The window of a search in payload text: each row's body is read and searched, so a quarter of the
 * rows keep that page as fast as the others (docs/dashboard.md).
 */
export const TEXT_WINDOW = 5_000;

/**
 * The pager under a newest-first list: "Older" continues from the last row (keyset, never an offset),
 * and when the search window ran out before the page filled, it says how far back it looked.
 */
export function pager(
  path: string,
  query: FormQuery,
  page: { next?: string; searchedTo?: string },
  window = SEARCH_WINDOW,
): Html {
  const newest = query.before !== undefined;
  return html`<nav class="pager" aria-label="Pages">
${newest && html`<a href="${withQuery(path, query, { before: undefined })}">Newest</a>`}
${page.next && html`<a href="${withQuery(path, query, { before: page.next })}" rel="next">Older</a>`}
${
  page.searchedTo &&
  html`<span class="muted">Searched the ${count(window)} newest in range, back to ${when(idTime(page.searchedTo))}; “Older” searches further.</span>`
}
</nav>`;
}

/**
 * The live tail's place on the first page of a list (off until its button, added by ui.js, is
 * pressed): the stream continues after the newest row shown, with the page's filter.
 */
export function tailControl(
  path: string,
  query: FormQuery,
  newest: string | undefined,
  target: string,
): Html | false {
  if (query.before?.trim() || query.until?.trim()) return false;
  const url = withQuery(path, query, { before: undefined, after: newest });
  return html`<div class="tail" data-live="${url}" data-target="${target}"><noscript><span class="muted">The live tail needs JavaScript; reload the page for new rows.</span></noscript></div>`;
}
