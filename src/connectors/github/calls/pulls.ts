import { ErrorCode, PatchbayError } from '../../../core/errors.js';
import type { HttpRequest } from '../../../http/http-types.js';
import { perPage } from './issues.js';
import { idSegment, type RepoRef, repoPath } from './repo-ref.js';
import type { IssueState } from './types.js';

export interface ListPullsOptions {
  state?: IssueState;
  /** GitHub's default is `created`; `updated` with `desc` is how an incremental read goes (there is no `since`). */
  sort?: 'created' | 'updated' | 'popularity' | 'long-running';
  /** GitHub's default is `desc` for `created` and `asc` for any other sort: this client always says which. */
  direction?: 'asc' | 'desc';
  base?: string;
  perPage?: number;
}

export interface PullInput {
  title: string;
  head: string;
  base: string;
  body?: string;
  draft?: boolean;
}

export interface PullChange {
  title?: string;
  body?: string;
  state?: 'open' | 'closed';
  base?: string;
}

export function listPullsRequest(ref: RepoRef, options: ListPullsOptions = {}): HttpRequest {
  const sort = options.sort ?? 'created';
  return {
    path: `${repoPath(ref)}/pulls`,
    query: {
      state: options.state,
      sort,
      direction: options.direction ?? (sort === 'created' ? 'desc' : 'asc'),
      base: options.base,
      per_page: perPage(options.perPage),
    },
  };
}

export function pullRequest(ref: RepoRef, number: number): HttpRequest {
  return { path: `${repoPath(ref)}/pulls/${idSegment('pull request number', number)}` };
}

export function createPullRequest(ref: RepoRef, input: PullInput): HttpRequest {
  for (const field of ['title', 'head', 'base'] as const) {
    if (typeof input?.[field] !== 'string' || input[field] === '') {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `a GitHub pull request needs ${field} (a non-empty string)`,
      );
    }
  }
  return { method: 'POST', path: `${repoPath(ref)}/pulls`, body: { ...input } };
}

export function updatePullRequest(ref: RepoRef, number: number, change: PullChange): HttpRequest {
  return {
    method: 'PATCH',
    path: `${repoPath(ref)}/pulls/${idSegment('pull request number', number)}`,
    body: { ...change },
  };
}

export function mergePullRequest(
  ref: RepoRef,
  number: number,
  options: { method?: 'merge' | 'squash' | 'rebase' } = {},
): HttpRequest {
  return {
    method: 'PUT',
    path: `${repoPath(ref)}/pulls/${idSegment('pull request number', number)}/merge`,
    body: { ...(options.method && { merge_method: options.method }) },
  };
}
