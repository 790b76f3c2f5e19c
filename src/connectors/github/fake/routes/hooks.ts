import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireUser } from '../api-gate.js';
import { type GitHubFakeContext, repoOf } from '../context.js';
import { notFound, sendError, validationFailed } from '../github-errors.js';
import type { FakeHook, FakeRepo } from '../model.js';
import { pageOf } from '../pages.js';
import { hookJson, repoJson, userJson } from '../representations.js';
import { bodyOf } from './issues.js';

type Query = Record<string, string | undefined>;

const DOCS = {
  hooks: 'https://docs.github.com/rest/repos/webhooks',
  create: 'https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook',
};

/**
 * Repository hooks (their deliveries are in `deliveries.ts`). Creating one sends it a `ping`. Hooks
 * need admin rights on the repository: without them, a 403 whose rate-limit headers show quota left
 * — a permission refusal, not a limit.
 */
export function hookRoutes(app: FastifyInstance, ctx: GitHubFakeContext): void {
  const { adminRepo, hookOf } = hookLookups(ctx);
  const ping = (repo: FakeRepo, hook: FakeHook, origin: string) =>
    ctx.sender.send(hook, {
      event: 'ping',
      action: null,
      payload: JSON.stringify({
        zen: 'Keep it logically awesome.',
        hook_id: hook.id,
        hook: hookJson(repo, hook, origin),
        repository: repoJson(repo, origin),
        sender: userJson(ctx.state.viewer, origin),
      }),
    });

  const list = async (request: FastifyRequest, reply: FastifyReply) => {
    const repo = adminRepo(request, reply);
    if (!repo) return reply;
    const origin = ctx.kit.origin(request);
    const page = pageOf([...repo.hooks.values()], {
      url: `${origin}/repositories/${repo.id}/hooks`,
      query: request.query as Query,
    });
    if (page.link) reply.header('link', page.link);
    return page.items.map((h) => hookJson(repo, h, origin));
  };
  app.get('/repos/:owner/:repo/hooks', list);
  app.get('/repositories/:id/hooks', list);

  app.post('/repos/:owner/:repo/hooks', async (request, reply) => {
    const repo = adminRepo(request, reply);
    if (!repo) return reply;
    const body = bodyOf(request, reply, DOCS.create);
    if (!body) return reply;
    const config = parseConfig(body.config, undefined);
    if (typeof config === 'string') return hookInvalid(reply, config);
    const events = parseEvents(body.events ?? ['push']);
    if (!events) return validationFailed(reply, 'Hook', 'events', 'invalid', DOCS.create);
    if ([...repo.hooks.values()].some((h) => h.config.url === config.url)) {
      return hookInvalid(reply, 'Hook already exists on this repository');
    }
    const hook = ctx.state.createHook(
      repo,
      { active: body.active !== false, events, config },
      ctx.kit.clock.now(),
    );
    const origin = ctx.kit.origin(request);
    if (hook.active) ping(repo, hook, origin);
    return reply.status(201).send(hookJson(repo, hook, origin));
  });

  app.get('/repos/:owner/:repo/hooks/:hook_id', async (request, reply) => {
    const found = hookOf(request, reply);
    if (!found) return reply;
    return hookJson(found.repo, found.hook, ctx.kit.origin(request));
  });

  app.patch('/repos/:owner/:repo/hooks/:hook_id', async (request, reply) => {
    const found = hookOf(request, reply);
    if (!found) return reply;
    const body = bodyOf(request, reply, DOCS.hooks);
    if (!body) return reply;
    const { hook } = found;
    if (body.config !== undefined) {
      const config = parseConfig(body.config, hook.config);
      if (typeof config === 'string') return hookInvalid(reply, config);
      hook.config = config;
    }
    for (const [field, value] of [
      ['events', body.events],
      ['add_events', body.add_events],
      ['remove_events', body.remove_events],
    ] as const) {
      if (value === undefined) continue;
      const events = parseEvents(value);
      if (!events) return validationFailed(reply, 'Hook', field, 'invalid', DOCS.hooks);
      if (field === 'events') hook.events = events;
      else if (field === 'add_events') hook.events = [...new Set([...hook.events, ...events])];
      else hook.events = hook.events.filter((e) => !events.includes(e));
    }
    if (typeof body.active === 'boolean') hook.active = body.active;
    hook.updatedAt = ctx.kit.clock.now();
    return hookJson(found.repo, hook, ctx.kit.origin(request));
  });

  app.delete('/repos/:owner/:repo/hooks/:hook_id', async (request, reply) => {
    const found = hookOf(request, reply);
    if (!found) return reply;
    found.repo.hooks.delete(found.hook.id);
    return reply.status(204).send();
  });

  app.post('/repos/:owner/:repo/hooks/:hook_id/pings', async (request, reply) => {
    const found = hookOf(request, reply);
    if (!found) return reply;
    ping(found.repo, found.hook, ctx.kit.origin(request));
    return reply.status(204).send();
  });
}

/** Finds the repository the caller administers and the hook the route names; otherwise answers. */
export function hookLookups(ctx: GitHubFakeContext) {
  /** The repository, when the caller administers it; otherwise the answer is sent. */
  const adminRepo = (request: FastifyRequest, reply: FastifyReply): FakeRepo | undefined => {
    if (!requireUser(request, reply, DOCS.hooks)) return undefined;
    const repo = repoOf(ctx, request);
    if (!repo) {
      notFound(reply);
      return undefined;
    }
    if (!repo.admin) {
      sendError(reply, 403, 'Must have admin rights to Repository.', DOCS.hooks);
      return undefined;
    }
    return repo;
  };
  const hookOf = (
    request: FastifyRequest,
    reply: FastifyReply,
  ): { repo: FakeRepo; hook: FakeHook } | undefined => {
    const repo = adminRepo(request, reply);
    if (!repo) return undefined;
    const hook = repo.hooks.get(Number((request.params as { hook_id: string }).hook_id));
    if (!hook) {
      notFound(reply);
      return undefined;
    }
    return { repo, hook };
  };
  return { adminRepo, hookOf };
}

function hookInvalid(reply: FastifyReply, message: string): FastifyReply {
  return sendError(reply, 422, 'Validation Failed', DOCS.create, {
    errors: [{ resource: 'Hook', code: 'custom', message }],
  });
}

/** A hook's `config`, checked as GitHub does; a string is the reason it was refused. */
function parseConfig(value: unknown, current: FakeHook['config'] | undefined): FakeHook['config'] | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return current ? 'config must be an object' : 'Config must contain URL for webhooks';
  }
  const input = value as Record<string, unknown>;
  const url = input.url ?? current?.url;
  if (typeof url !== 'string' || url === '') return 'Config must contain URL for webhooks';
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      return 'Config url must be an http(s) URL';
  } catch {
    return 'Config url is not a URL';
  }
  const contentType = input.content_type ?? current?.content_type ?? 'form';
  if (contentType !== 'json' && contentType !== 'form') return 'Config content_type must be "json" or "form"';
  const secret = input.secret === undefined ? current?.secret : input.secret;
  if (secret !== undefined && secret !== null && typeof secret !== 'string')
    return 'Config secret must be a string';
  return {
    url,
    // GitHub's default for a hook made through the API is the form encoding, not JSON.
    content_type: contentType,
    insecure_ssl: String(input.insecure_ssl ?? current?.insecure_ssl ?? '0'),
    ...(typeof secret === 'string' && secret !== '' && { secret }),
  };
}

function parseEvents(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.every((e) => typeof e === 'string' && /^(\*|[a-z_]+)$/.test(e))
    ? [...new Set(value as string[])]
    : undefined;
}
