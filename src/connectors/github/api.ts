import type { HttpClient } from '../../http/create-http-client.js';
import type { HttpRequest, ResponseSchema } from '../../http/http-types.js';
import {
  createHookRequest,
  deleteHookRequest,
  type HookInput,
  type ListDeliveriesOptions,
  listDeliveriesRequest,
  listHooksRequest,
  pingHookRequest,
  redeliverRequest,
} from './calls/hooks.js';
import {
  createIssueRequest,
  type IssueChange,
  type IssueInput,
  issueRequest,
  type ListIssuesOptions,
  listIssuesRequest,
  updateIssueRequest,
} from './calls/issues.js';
import { type GitHubPage, githubPages, valid } from './calls/pages.js';
import {
  createPullRequest,
  type ListPullsOptions,
  listPullsRequest,
  mergePullRequest,
  type PullChange,
  type PullInput,
  pullRequest,
  updatePullRequest,
} from './calls/pulls.js';
import { type RepoRef, repoPath } from './calls/repo-ref.js';
import { type RedeliveryOptions, type RedeliveryReport, redeliverFailed } from './redeliver-failed.js';
import {
  deliverySchema,
  type GitHubDelivery,
  type GitHubHook,
  type GitHubIssue,
  type GitHubPull,
  type GitHubRepo,
  type GitHubUser,
  hookSchema,
  issueSchema,
  mergeSchema,
  pullSchema,
  repoSchema,
  userSchema,
} from './schemas.js';

export interface CallOptions {
  signal?: AbortSignal;
}

/** GitHub's REST calls over a connection's client (its base URL, token, limits and error reading). */
export interface GitHubApi {
  readonly client: HttpClient;
  /** The authenticated user. */
  user(options?: CallOptions): Promise<GitHubUser>;
  repos: {
    list(options?: CallOptions): AsyncGenerator<GitHubRepo>;
    get(ref: RepoRef, options?: CallOptions): Promise<GitHubRepo>;
  };
  issues: {
    /** Pages as GitHub answers them, pull requests included (`pull_request` marks them). */
    pages(ref: RepoRef, options?: ListIssuesOptions & CallOptions): AsyncGenerator<GitHubPage<GitHubIssue>>;
    /** Every issue, pull requests left out. */
    list(ref: RepoRef, options?: ListIssuesOptions & CallOptions): AsyncGenerator<GitHubIssue>;
    get(ref: RepoRef, number: number, options?: CallOptions): Promise<GitHubIssue>;
    create(ref: RepoRef, input: IssueInput, options?: CallOptions): Promise<GitHubIssue>;
    update(ref: RepoRef, number: number, change: IssueChange, options?: CallOptions): Promise<GitHubIssue>;
  };
  pulls: {
    pages(ref: RepoRef, options?: ListPullsOptions & CallOptions): AsyncGenerator<GitHubPage<GitHubPull>>;
    list(ref: RepoRef, options?: ListPullsOptions & CallOptions): AsyncGenerator<GitHubPull>;
    get(ref: RepoRef, number: number, options?: CallOptions): Promise<GitHubPull>;
    create(ref: RepoRef, input: PullInput, options?: CallOptions): Promise<GitHubPull>;
    update(ref: RepoRef, number: number, change: PullChange, options?: CallOptions): Promise<GitHubPull>;
    merge(
      ref: RepoRef,
      number: number,
      options?: CallOptions & { method?: 'merge' | 'squash' | 'rebase' },
    ): Promise<{ merged: boolean }>;
  };
  hooks: {
    list(ref: RepoRef, options?: CallOptions): Promise<GitHubHook[]>;
    create(ref: RepoRef, input: HookInput, options?: CallOptions): Promise<GitHubHook>;
    delete(ref: RepoRef, id: number, options?: CallOptions): Promise<void>;
    ping(ref: RepoRef, id: number, options?: CallOptions): Promise<void>;
    /** A hook's deliveries, newest first, page by page. */
    deliveryPages(
      ref: RepoRef,
      id: number,
      options?: ListDeliveriesOptions & CallOptions,
    ): AsyncGenerator<GitHubPage<GitHubDelivery>>;
    /** Asks GitHub to send a delivery again (same GUID); it answers 202 and sends it later. */
    redeliver(ref: RepoRef, id: number, deliveryId: number, options?: CallOptions): Promise<void>;
    /** Redelivers every delivery that has not succeeded in the window (GitHub never retries on its own). */
    redeliverFailed(ref: RepoRef, id: number, options: RedeliveryOptions): Promise<RedeliveryReport>;
  };
}

export function githubApi(client: HttpClient): GitHubApi {
  // Requests are built inside the promise (or the generator), so bad input rejects rather than throws.
  const one = async <T>(
    build: () => HttpRequest,
    schema: ResponseSchema<T>,
    options?: CallOptions,
  ): Promise<T> => {
    const request = build();
    const response = await client.request({ ...request, ...(options?.signal && { signal: options.signal }) });
    return valid(schema, response.body, undefined, request.path);
  };
  const none = async (build: () => HttpRequest, options?: CallOptions): Promise<void> => {
    const request = build();
    await client.request({ ...request, ...(options?.signal && { signal: options.signal }) });
  };
  async function* pages<T>(build: () => HttpRequest, schema: ResponseSchema<T>, options?: CallOptions) {
    yield* githubPages(client, { ...build(), ...(options?.signal && { signal: options.signal }) }, schema);
  }
  async function* items<T>(source: AsyncGenerator<GitHubPage<T>>, keep: (item: T) => boolean = () => true) {
    for await (const page of source) yield* page.items.filter(keep);
  }

  const api: GitHubApi = {
    client,
    user: (options) => one(() => ({ path: '/user' }), userSchema, options),
    repos: {
      list: (options) =>
        items(pages(() => ({ path: '/user/repos', query: { per_page: 100 } }), repoSchema, options)),
      get: (ref, options) => one(() => ({ path: repoPath(ref) }), repoSchema, options),
    },
    issues: {
      pages: (ref, options) => pages(() => listIssuesRequest(ref, options), issueSchema, options),
      list: (ref, options) =>
        items(api.issues.pages(ref, options), (issue) => issue.pull_request === undefined),
      get: (ref, number, options) => one(() => issueRequest(ref, number), issueSchema, options),
      create: (ref, input, options) => one(() => createIssueRequest(ref, input), issueSchema, options),
      update: (ref, number, change, options) =>
        one(() => updateIssueRequest(ref, number, change), issueSchema, options),
    },
    pulls: {
      pages: (ref, options) => pages(() => listPullsRequest(ref, options), pullSchema, options),
      list: (ref, options) => items(api.pulls.pages(ref, options)),
      get: (ref, number, options) => one(() => pullRequest(ref, number), pullSchema, options),
      create: (ref, input, options) => one(() => createPullRequest(ref, input), pullSchema, options),
      update: (ref, number, change, options) =>
        one(() => updatePullRequest(ref, number, change), pullSchema, options),
      merge: (ref, number, options) =>
        one(() => mergePullRequest(ref, number, options), mergeSchema, options),
    },
    hooks: {
      list: async (ref, options) => {
        const all: GitHubHook[] = [];
        for await (const hook of items(pages(() => listHooksRequest(ref), hookSchema, options)))
          all.push(hook);
        return all;
      },
      create: (ref, input, options) => one(() => createHookRequest(ref, input), hookSchema, options),
      delete: (ref, id, options) => none(() => deleteHookRequest(ref, id), options),
      ping: (ref, id, options) => none(() => pingHookRequest(ref, id), options),
      deliveryPages: (ref, id, options) =>
        pages(() => listDeliveriesRequest(ref, id, options), deliverySchema, options),
      redeliver: (ref, id, deliveryId, options) => none(() => redeliverRequest(ref, id, deliveryId), options),
      redeliverFailed: (ref, id, options) => redeliverFailed(api, ref, id, options),
    },
  };
  return api;
}
