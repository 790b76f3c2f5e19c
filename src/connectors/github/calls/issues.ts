import { ErrorCode, PatchbayError } from '../../../core/errors.js';
import type { HttpRequest } from '../../../http/http-types.js';
import { idSegment, type RepoRef, repoPath } from './repo-ref.js';
import type { IssueState } from './types.js';

export interface ListIssuesOptions {
  /** Defaults to `open` (GitHub's default). */
  state?: IssueState;
  /** Only issues updated at or after this instant (GitHub compares whole seconds). */
  since?: string | Date;
  sort?: 'created' | 'updated' | 'comments';
  direction?: 'asc' | 'desc';
  /** Only issues with every one of these labels. */
  labels?: readonly string[];
  /** 1–100. Defaults to 100 (GitHub's default is 30). */
  perPage?: number;
}

export interface IssueInput {
  title: string;
  body?: string | null;
  labels?: string[];
}

export interface IssueChange {
  title?: string;
  body?: string | null;
  state?: 'open' | 'closed';
  stateReason?: 'completed' | 'not_planned' | 'reopened' | null;
  labels?: string[];
}

/** `GET /repos/{owner}/{repo}/issues` — pull requests included, as GitHub lists them. */
export function listIssuesRequest(ref: RepoRef, options: ListIssuesOptions = {}): HttpRequest {
  return {
    path: `${repoPath(ref)}/issues`,
    query: {
      state: options.state,
      since: options.since === undefined ? undefined : isoSeconds(options.since),
      sort: options.sort,
      direction: options.direction,
      labels: options.labels?.join(','),
      per_page: perPage(options.perPage),
    },
  };
}

export function issueRequest(ref: RepoRef, number: number): HttpRequest {
  return { path: `${repoPath(ref)}/issues/${idSegment('issue number', number)}` };
}

export function createIssueRequest(ref: RepoRef, input: IssueInput): HttpRequest {
  if (typeof input?.title !== 'string' || input.title === '') {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'a GitHub issue needs a title (a non-empty string)');
  }
  return {
    method: 'POST',
    path: `${repoPath(ref)}/issues`,
    body: { title: input.title, body: input.body, labels: input.labels },
  };
}

export function updateIssueRequest(ref: RepoRef, number: number, change: IssueChange): HttpRequest {
  const { stateReason, ...rest } = change;
  return {
    method: 'PATCH',
    path: `${repoPath(ref)}/issues/${idSegment('issue number', number)}`,
    body: { ...rest, ...(stateReason !== undefined && { state_reason: stateReason }) },
  };
}

/** GitHub's `YYYY-MM-DDTHH:MM:SSZ`. */
export function isoSeconds(value: string | Date): string {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms))
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `not a time: ${JSON.stringify(value)}`);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function perPage(value: number | undefined): number {
  if (value === undefined) return 100;
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `perPage must be a whole number from 1 to 100, got ${value}`,
    );
  }
  return value;
}
