import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { INVALID_JSON } from '../../../fake-kit/index.js';
import { requireUser } from '../api-gate.js';
import { callerOf, type GitHubFakeContext, repoOf } from '../context.js';
import { notFound, sendError, validationFailed } from '../github-errors.js';
import type { FakeIssue, FakeRepo } from '../model.js';
import { pageOf } from '../pages.js';
import { emitChange } from '../payloads.js';
import { issueJson } from '../representations.js';

type Query = Record<string, string | undefined>;

const DOCS = {
  list: 'https://docs.github.com/rest/issues/issues#list-repository-issues',
  create: 'https://docs.github.com/rest/issues/issues#create-an-issue',
  update: 'https://docs.github.com/rest/issues/issues#update-an-issue',
};

/**
 * Repository issues. As on GitHub, the list includes pull requests (marked by `pull_request`),
 * `since` keeps what was updated at or after the instant, and results are newest first by default.
 */
export function issueRoutes(app: FastifyInstance, ctx: GitHubFakeContext): void {
  const list = async (request: FastifyRequest, reply: FastifyReply) => {
    const repo = repoOf(ctx, request);
    if (!repo) return notFound(reply);
    const query = request.query as Query;
    const state = query.state ?? 'open';
    if (!['open', 'closed', 'all'].includes(state))
      return validationFailed(reply, 'Issue', 'state', 'invalid', DOCS.list);
    const sort = query.sort ?? 'created';
    if (!['created', 'updated', 'comments'].includes(sort))
      return validationFailed(reply, 'Issue', 'sort', 'invalid', DOCS.list);
    const direction = query.direction ?? 'desc';
    if (!['asc', 'desc'].includes(direction))
      return validationFailed(reply, 'Issue', 'direction', 'invalid', DOCS.list);
    let since: number | undefined;
    if (query.since !== undefined) {
      since = Date.parse(query.since);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(query.since) || Number.isNaN(since)) {
        return validationFailed(reply, 'Issue', 'since', 'invalid', DOCS.list);
      }
    }
    const labels =
      query.labels
        ?.split(',')
        .map((l) => l.trim())
        .filter(Boolean) ?? [];
    const key = (i: FakeIssue) =>
      sort === 'created' ? i.createdAt : sort === 'updated' ? i.updatedAt : i.comments;
    const issues = [...repo.issues.values()]
      .filter((i) => state === 'all' || i.state === state)
      // GitHub compares at whole seconds: an update at 12:00:00.700 matches since=12:00:00Z.
      .filter((i) => since === undefined || Math.floor(i.updatedAt / 1000) * 1000 >= since)
      .filter((i) => labels.every((l) => i.labels.includes(l)))
      .filter((i) => query.creator === undefined || i.user.login === query.creator)
      .sort(
        (a, b) =>
          (direction === 'asc' ? key(a) - key(b) : key(b) - key(a)) ||
          (direction === 'asc' ? a.number - b.number : b.number - a.number),
      );
    const origin = ctx.kit.origin(request);
    const page = pageOf(issues, { url: `${origin}/repositories/${repo.id}/issues`, query });
    if (page.link) reply.header('link', page.link);
    return page.items.map((i) => issueJson(repo, i, origin));
  };
  app.get('/repos/:owner/:repo/issues', list);
  app.get('/repositories/:id/issues', list);

  app.post('/repos/:owner/:repo/issues', { config: { creates: true } }, async (request, reply) => {
    if (!requireUser(request, reply, DOCS.create)) return reply;
    const repo = repoOf(ctx, request);
    if (!repo) return notFound(reply);
    const body = bodyOf(request, reply, DOCS.create);
    if (!body) return reply;
    if (body.title === undefined || body.title === null || body.title === '') {
      return validationFailed(reply, 'Issue', 'title', 'missing_field', DOCS.create);
    }
    if (typeof body.title !== 'string' && typeof body.title !== 'number') {
      return validationFailed(reply, 'Issue', 'title', 'invalid', DOCS.create);
    }
    const labels = labelsOf(body.labels);
    if (labels === null) return validationFailed(reply, 'Issue', 'labels', 'invalid', DOCS.create);
    const issue = ctx.state.createIssue(
      repo,
      {
        title: String(body.title),
        body: typeof body.body === 'string' ? body.body : null,
        labels,
        user: callerOf(request)!,
      },
      ctx.kit.clock.now(),
    );
    const origin = ctx.kit.origin(request);
    emitChange(ctx, repo, issue, 'opened', origin);
    return reply.status(201).send(issueJson(repo, issue, origin));
  });

  const one = (request: FastifyRequest): { repo: FakeRepo; issue: FakeIssue } | undefined => {
    const repo = repoOf(ctx, request);
    const issue = repo?.issues.get(Number((request.params as { number: string }).number));
    return repo && issue ? { repo, issue } : undefined;
  };

  app.get('/repos/:owner/:repo/issues/:number', async (request, reply) => {
    const found = one(request);
    if (!found) return notFound(reply);
    return issueJson(found.repo, found.issue, ctx.kit.origin(request));
  });

  app.patch('/repos/:owner/:repo/issues/:number', async (request, reply) => {
    if (!requireUser(request, reply, DOCS.update)) return reply;
    const found = one(request);
    if (!found) return notFound(reply);
    const body = bodyOf(request, reply, DOCS.update);
    if (!body) return reply;
    const { repo, issue } = found;
    const change = applyIssueChange(issue, body, ctx.kit.clock.now(), ctx);
    if (typeof change === 'object')
      return validationFailed(reply, 'Issue', change.field, 'invalid', DOCS.update);
    const origin = ctx.kit.origin(request);
    if (change) emitChange(ctx, repo, issue, change, origin);
    return issueJson(repo, issue, origin);
  });
}

/** The request's JSON object body, or a 400 (not JSON) answered already. */
export function bodyOf(
  request: FastifyRequest,
  reply: FastifyReply,
  docs: string,
): Record<string, unknown> | undefined {
  if (request.body === INVALID_JSON) {
    sendError(reply, 400, 'Problems parsing JSON', docs);
    return undefined;
  }
  const body = request.body ?? {};
  if (typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) {
    sendError(reply, 400, 'Problems parsing JSON', docs);
    return undefined;
  }
  return body as Record<string, unknown>;
}

function labelsOf(value: unknown): string[] | null {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return null;
  const names = value.map((l) =>
    typeof l === 'string' ? l : typeof l === 'object' && l && 'name' in l ? String(l.name) : null,
  );
  return names.every((n): n is string => typeof n === 'string' && n.length > 0) ? names : null;
}

/**
 * Applies a PATCH (title, body, state, state_reason, labels) and says which webhook action it makes:
 * `closed`/`reopened` when the state changed, `edited` otherwise, undefined when nothing changed, or
 * the invalid field.
 */
export function applyIssueChange(
  issue: FakeIssue,
  body: Record<string, unknown>,
  now: number,
  ctx: GitHubFakeContext,
): string | undefined | { field: string } {
  if (body.title !== undefined && (typeof body.title !== 'string' || body.title === ''))
    return { field: 'title' };
  if (body.body !== undefined && body.body !== null && typeof body.body !== 'string')
    return { field: 'body' };
  if (body.state !== undefined && body.state !== 'open' && body.state !== 'closed') return { field: 'state' };
  const reason = body.state_reason;
  if (
    reason !== undefined &&
    reason !== null &&
    !['completed', 'not_planned', 'reopened'].includes(reason as string)
  ) {
    return { field: 'state_reason' };
  }
  const labels = body.labels === undefined ? undefined : labelsOf(body.labels);
  if (labels === null) return { field: 'labels' };
  let action: string | undefined;
  if (typeof body.title === 'string' && body.title !== issue.title) {
    issue.title = body.title;
    action = 'edited';
  }
  if (body.body !== undefined && body.body !== issue.body) {
    issue.body = (body.body as string | null) ?? null;
    action = 'edited';
  }
  if (labels && labels.join('\n') !== issue.labels.join('\n')) {
    issue.labels = labels;
    action = 'edited';
  }
  if (body.state !== undefined && body.state !== issue.state) {
    ctx.state.setState(issue, body.state as 'open' | 'closed', reason as FakeIssue['stateReason'], now);
    action = issue.state === 'closed' ? 'closed' : 'reopened';
  }
  if (action) issue.updatedAt = now;
  return action;
}
