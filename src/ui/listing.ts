import { idTime } from '../core/ids.js';
import { type FormQuery, withQuery } from './filters.js';
import { count, when } from './format.js';
import { type Html, html } from './html.js';

/** Rows each list page shows. */
export const PAGE_SIZE = 50;
/** Rows a list page looks at, at most, to find its PAGE_SIZE matches (search-window.ts). */
export const SEARCH_WINDOW = 20_000;

/**
 * The pager under a newest-first list: "Older" continues from the last row (keyset, never an offset),
 * and when the search window ran out before the page filled, it says how far back it looked.
 */
export function pager(path: string, query: FormQuery, page: { next?: string; searchedTo?: string }): Html {
  const newest = query.before !== undefined;
  return html`<nav class="pager" aria-label="Pages">
${newest && html`<a href="${withQuery(path, query, { before: undefined })}">Newest</a>`}
${page.next && html`<a href="${withQuery(path, query, { before: page.next })}" rel="next">Older</a>`}
${
  page.searchedTo &&
  html`<span class="muted">Searched the ${count(SEARCH_WINDOW)} newest in range, back to ${when(idTime(page.searchedTo))}; “Older” searches further.</span>`
}
</nav>`;
}
