/** A list filter on state: GitHub's `open` (its default), `closed`, or `all`. */
export type IssueState = 'open' | 'closed' | 'all';
