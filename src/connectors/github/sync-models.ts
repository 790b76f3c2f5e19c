import { z } from 'zod';
import type { FetchContext } from '../../sync/fetch-context.js';
import type { SyncPage } from '../../sync/page.js';
import { defineSyncModel } from '../../sync/sync-model.js';
import { listIssuesRequest, listPullsRequest } from './calls/index.js';
import { type GitHubPage, githubPages } from './calls/pages.js';
import type { RepoRef } from './calls/repo-ref.js';
import { issueSchema, pullSchema } from './schemas.js';
import {
  type IssueRecord,
  issueRecord,
  issueRecordSchema,
  type PullRecord,
  pullRecord,
  pullRecordSchema,
} from './sync-records.js';

const repoOptions = z.strictObject({
  owner: z.string({ error: 'must be the repository owner (a user or an organisation)' }).min(1),
  repo: z.string({ error: 'must be the repository name' }).min(1),
});

/** Where an issues read resumes: GitHub's `since` (updated at or after) and, inside one second, a page. */
type IssuesCheckpoint = { since: string | null; page: number };

/**
 * `github.issues`: a repository's issues (pull requests left out), incremental by GitHub's `since`.
 * Each request asks for `since=<watermark>&sort=updated&direction=asc`, page 1, and the watermark moves
 * to the last `updated_at` read: an issue updated during the read moves behind the watermark and is read
 * again, never skipped (page numbers over a changing list skip rows). The last second is re-read each
 * time (`since` is inclusive; the store recognises unchanged records); only when a whole page shares
 * one second does the read step through that second's pages.
 */
export const githubIssues = defineSyncModel({
  name: 'github.issues',
  description: "A repository's issues, incremental by updated time",
  options: repoOptions,
  define: (ref: RepoRef) => ({
    key: 'id',
    schema: issueRecordSchema,
    modifiedAt: 'updatedAt',
    async *fetch(ctx: FetchContext): AsyncGenerator<SyncPage<IssueRecord>> {
      const start = ctx.checkpoint as IssuesCheckpoint | undefined;
      let at: IssuesCheckpoint = { since: start?.since ?? null, page: start?.page ?? 1 };
      for (;;) {
        const request = listIssuesRequest(ref, {
          state: 'all',
          sort: 'updated',
          direction: 'asc',
          ...(at.since !== null && { since: at.since }),
        });
        const page = await firstPage(
          ctx,
          { ...request, query: { ...request.query, page: at.page } },
          issueSchema,
        );
        const last = page.items.at(-1)?.updated_at;
        const records = page.items.filter((i) => i.pull_request === undefined).map(issueRecord);
        if (last === undefined) return yield { records: [] };
        const next: IssuesCheckpoint =
          last === at.since ? { since: last, page: at.page + 1 } : { since: last, page: 1 };
        if (!page.next) return yield { records, checkpoint: { since: last, page: 1 } };
        yield { records, checkpoint: next };
        at = next;
      }
    },
  }),
});

/** Where a pull requests read resumes. */
type PullsCheckpoint = { since: string | null; next: string | null; newest: string | null };

/**
 * `github.pulls`: a repository's pull requests. GitHub's pulls list has no `since`, so a read goes
 * newest first (`sort=updated&direction=desc`) and stops at the watermark of the last complete pass;
 * the watermark moves only when a pass ends, and a crashed pass resumes from its next link.
 */
export const githubPulls = defineSyncModel({
  name: 'github.pulls',
  description: "A repository's pull requests, incremental by updated time",
  options: repoOptions,
  define: (ref: RepoRef) => ({
    key: 'id',
    schema: pullRecordSchema,
    modifiedAt: 'updatedAt',
    async *fetch(ctx: FetchContext): AsyncGenerator<SyncPage<PullRecord>> {
      const start = ctx.checkpoint as PullsCheckpoint | undefined;
      const since = start?.since ?? null;
      let newest = start?.newest ?? null;
      const first = start?.next
        ? { path: start.next }
        : listPullsRequest(ref, { state: 'all', sort: 'updated', direction: 'desc' });
      for await (const page of githubPages(ctx.http, { ...first, signal: ctx.signal }, pullSchema)) {
        const top = page.items[0]?.updated_at;
        if (top !== undefined && (newest === null || top > newest)) newest = top;
        const fresh = page.items.filter((p) => since === null || p.updated_at >= since);
        const done = !page.next || fresh.length < page.items.length;
        if (done)
          return yield {
            records: fresh.map(pullRecord),
            checkpoint: { since: newest ?? since, next: null, newest: null },
          };
        yield { records: fresh.map(pullRecord), checkpoint: { since, next: page.next ?? null, newest } };
      }
    },
  }),
});

/** One page, not following its links (the next request is built from the watermark). */
async function firstPage<T>(
  ctx: FetchContext,
  request: Parameters<typeof githubPages>[1],
  schema: Parameters<typeof githubPages<T>>[2],
): Promise<GitHubPage<T>> {
  const pages = githubPages(ctx.http, { ...request, signal: ctx.signal }, schema);
  const { value } = await pages.next();
  await pages.return(undefined);
  return value as GitHubPage<T>;
}
