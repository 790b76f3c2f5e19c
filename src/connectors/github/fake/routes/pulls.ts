import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireUser } from '../api-gate.js';
import { callerOf, type GitHubFakeContext, repoOf } from '../context.js';
import { notFound, sendError, validationFailed } from '../github-errors.js';
import type { FakeIssue, FakeRepo } from '../model.js';
import { pageOf } from '../pages.js';
import { emitChange } from '../payloads.js';
import { pullJson } from '../representations.js';
import { applyIssueChange, bodyOf } from './issues.js';

type Query = Record<string, string | undefined>;

const DOCS = {
  list: 'https://docs.github.com/rest/pulls/pulls#list-pull-requests',
  create: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
  update: 'https://docs.github.com/rest/pulls/pulls#update-a-pull-request',
  merge: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request',
};

/**
 * Pull requests. Unlike issues, the list takes no `since` (GitHub ignores it): an incremental read
 * sorts by `updated`, descending, and stops at the watermark. `direction` defaults to `desc` only
 * when sorting by `created`; for any other sort it defaults to `asc`.
 */
export function pullRoutes(app: FastifyInstance, ctx: GitHubFakeContext): void {
  const list = async (request: FastifyRequest, reply: FastifyReply) => {
    const repo = repoOf(ctx, request);
    if (!repo) return notFound(reply);
    const query = request.query as Query;
    const state = query.state ?? 'open';
    if (!['open', 'closed', 'all'].includes(state))
      return validationFailed(reply, 'PullRequest', 'state', 'invalid', DOCS.list);
    const sort = query.sort ?? 'created';
    if (!['created', 'updated', 'popularity', 'long-running'].includes(sort)) {
      return validationFailed(reply, 'PullRequest', 'sort', 'invalid', DOCS.list);
    }
    const direction = query.direction ?? (sort === 'created' ? 'desc' : 'asc');
    const key = (i: FakeIssue) =>
      sort === 'updated' ? i.updatedAt : sort === 'popularity' ? i.comments : i.createdAt;
    const pulls = [...repo.issues.values()]
      .filter((i) => i.pull && (state === 'all' || i.state === state))
      .filter((i) => query.base === undefined || i.pull!.base === query.base)
      .filter((i) => query.head === undefined || `${repo.owner.login}:${i.pull!.head}` === query.head)
      .sort((a, b) =>
        direction === 'asc' ? key(a) - key(b) || a.number - b.number : key(b) - key(a) || b.number - a.number,
      );
    const origin = ctx.kit.origin(request);
    const page = pageOf(pulls, { url: `${origin}/repositories/${repo.id}/pulls`, query });
    if (page.link) reply.header('link', page.link);
    return page.items.map((i) => pullJson(repo, i, origin));
  };
  app.get('/repos/:owner/:repo/pulls', list);
  app.get('/repositories/:id/pulls', list);

  app.post('/repos/:owner/:repo/pulls', { config: { creates: true } }, async (request, reply) => {
    if (!requireUser(request, reply, DOCS.create)) return reply;
    const repo = repoOf(ctx, request);
    if (!repo) return notFound(reply);
    const body = bodyOf(request, reply, DOCS.create);
    if (!body) return reply;
    for (const field of ['title', 'head', 'base'] as const) {
      if (typeof body[field] !== 'string' || body[field] === '') {
        return validationFailed(
          reply,
          'PullRequest',
          field,
          body[field] === undefined ? 'missing_field' : 'invalid',
          DOCS.create,
        );
      }
    }
    const issue = ctx.state.createIssue(
      repo,
      {
        title: body.title as string,
        body: typeof body.body === 'string' ? body.body : null,
        user: callerOf(request)!,
        pull: {
          head: body.head as string,
          base: body.base as string,
          draft: body.draft === true,
          mergedAt: null,
        },
      },
      ctx.kit.clock.now(),
    );
    const origin = ctx.kit.origin(request);
    emitChange(ctx, repo, issue, 'opened', origin);
    return reply.status(201).send(pullJson(repo, issue, origin));
  });

  const one = (request: FastifyRequest): { repo: FakeRepo; issue: FakeIssue } | undefined => {
    const repo = repoOf(ctx, request);
    const issue = repo?.issues.get(Number((request.params as { number: string }).number));
    return repo && issue?.pull ? { repo, issue } : undefined;
  };

  app.get('/repos/:owner/:repo/pulls/:number', async (request, reply) => {
    const found = one(request);
    if (!found) return notFound(reply);
    return pullJson(found.repo, found.issue, ctx.kit.origin(request));
  });

  app.patch('/repos/:owner/:repo/pulls/:number', async (request, reply) => {
    if (!requireUser(request, reply, DOCS.update)) return reply;
    const found = one(request);
    if (!found) return notFound(reply);
    const body = bodyOf(request, reply, DOCS.update);
    if (!body) return reply;
    const { repo, issue } = found;
    if (issue.pull!.mergedAt !== null && body.state === 'open') {
      return validationFailed(
        reply,
        'PullRequest',
        'state',
        'custom',
        DOCS.update,
        'state cannot be changed. The pull request has been merged.',
      );
    }
    const { base, ...rest } = body;
    const now = ctx.kit.clock.now();
    let change = applyIssueChange(issue, rest, now, ctx);
    if (typeof change === 'object')
      return validationFailed(reply, 'PullRequest', change.field, 'invalid', DOCS.update);
    if (typeof base === 'string' && base !== '' && base !== issue.pull!.base) {
      issue.pull!.base = base;
      issue.updatedAt = now;
      change ??= 'edited';
    }
    const origin = ctx.kit.origin(request);
    if (change) emitChange(ctx, repo, issue, change, origin);
    return pullJson(repo, issue, origin);
  });

  app.put('/repos/:owner/:repo/pulls/:number/merge', async (request, reply) => {
    if (!requireUser(request, reply, DOCS.merge)) return reply;
    const found = one(request);
    if (!found) return notFound(reply);
    const { repo, issue } = found;
    if (issue.state === 'closed') return sendError(reply, 405, 'Pull Request is not mergeable', DOCS.merge);
    const now = ctx.kit.clock.now();
    issue.pull!.mergedAt = now;
    ctx.state.setState(issue, 'closed', 'completed', now);
    issue.updatedAt = now;
    emitChange(ctx, repo, issue, 'closed', ctx.kit.origin(request));
    return { sha: issue.pull!.headSha, merged: true, message: 'Pull Request successfully merged' };
  });
}
