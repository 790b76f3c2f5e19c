import type { FastifyInstance } from 'fastify';
import { INVALID_JSON } from '../../../fake-kit/index.js';
import { requireUser } from '../api-gate.js';
import { callerOf, type GitHubFakeContext, repoOf } from '../context.js';
import { notFound, sendError, validationFailed } from '../github-errors.js';
import { pageOf } from '../pages.js';
import { repoJson, userJson } from '../representations.js';

type Query = Record<string, string | undefined>;

const DOCS = {
  user: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
  repos: 'https://docs.github.com/rest/repos/repos#list-repositories-for-the-authenticated-user',
  create: 'https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user',
};

/** The authenticated user, its repositories, one repository, and the rate-limit status. */
export function repoRoutes(app: FastifyInstance, ctx: GitHubFakeContext): void {
  app.get('/user', async (request, reply) => {
    if (!requireUser(request, reply, DOCS.user)) return reply;
    return userJson(callerOf(request)!, ctx.kit.origin(request));
  });

  app.get('/user/repos', async (request, reply) => {
    if (!requireUser(request, reply, DOCS.repos)) return reply;
    const query = request.query as Query;
    const sort = query.sort ?? 'full_name';
    if (!['created', 'updated', 'pushed', 'full_name'].includes(sort)) {
      return validationFailed(reply, 'Repository', 'sort', 'invalid', DOCS.repos);
    }
    // GitHub: ascending for full_name, descending otherwise, unless `direction` says.
    const direction = query.direction ?? (sort === 'full_name' ? 'asc' : 'desc');
    const visibility = query.visibility ?? 'all';
    const repos = [...ctx.state.repos.values()]
      .filter((r) => visibility === 'all' || (visibility === 'private') === r.private)
      .sort((a, b) => {
        const order =
          sort === 'full_name'
            ? `${a.owner.login}/${a.name}`.localeCompare(`${b.owner.login}/${b.name}`)
            : sort === 'created'
              ? a.createdAt - b.createdAt
              : a.updatedAt - b.updatedAt;
        return (direction === 'asc' ? order : -order) || a.id - b.id;
      });
    const origin = ctx.kit.origin(request);
    const page = pageOf(repos, { url: `${origin}/user/repos`, query });
    if (page.link) reply.header('link', page.link);
    return page.items.map((r) => repoJson(r, origin));
  });

  app.post('/user/repos', { config: { creates: true } }, async (request, reply) => {
    if (!requireUser(request, reply, DOCS.create)) return reply;
    if (request.body === INVALID_JSON) return sendError(reply, 400, 'Problems parsing JSON', DOCS.create);
    const body = (request.body ?? {}) as { name?: unknown; private?: unknown; description?: unknown };
    if (typeof body.name !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(body.name)) {
      return validationFailed(
        reply,
        'Repository',
        'name',
        body.name === undefined ? 'missing_field' : 'invalid',
        DOCS.create,
      );
    }
    if (ctx.state.findRepo(ctx.state.viewer.login, body.name)) {
      return validationFailed(
        reply,
        'Repository',
        'name',
        'custom',
        DOCS.create,
        'name already exists on this account',
      );
    }
    const repo = ctx.state.createRepo(
      {
        name: body.name,
        private: body.private === true,
        description: typeof body.description === 'string' ? body.description : null,
      },
      ctx.kit.clock.now(),
    );
    return reply.status(201).send(repoJson(repo, ctx.kit.origin(request)));
  });

  const one = async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const repo = repoOf(ctx, request);
    if (!repo) return notFound(reply);
    return repoJson(repo, ctx.kit.origin(request));
  };
  app.get('/repos/:owner/:repo', one);
  app.get('/repositories/:id', one);

  // Not counted against the limit (GitHub: "Accessing this endpoint does not count").
  app.get('/rate_limit', async (request) => {
    const key = callerOf(request) ? `user:${ctx.state.viewer.id}` : `ip:${request.ip}`;
    const core = { ...ctx.primary.state(key, ctx.kit.clock.now()), resource: 'core' };
    const other = (resource: string, limit: number) => ({
      limit,
      used: 0,
      remaining: limit,
      reset: core.reset,
      resource,
    });
    return {
      resources: { core, search: other('search', 30), graphql: other('graphql', 5000) },
      rate: core,
    };
  });
}
