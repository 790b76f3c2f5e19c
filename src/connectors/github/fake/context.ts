import type { FastifyRequest } from 'fastify';
import type { FakeKit } from '../../fake-kit/index.js';
import type { HookSender } from './hook-sender.js';
import type { FakeRepo, FakeUser } from './model.js';
import type { ResolvedGitHubFakeOptions } from './options.js';
import type { PrimaryLimits } from './primary-limit.js';
import type { SecondaryLimits } from './secondary-limits.js';
import type { GitHubFakeState } from './state.js';

/** What every route of the GitHub fake shares. */
export interface GitHubFakeContext {
  readonly kit: FakeKit;
  readonly options: ResolvedGitHubFakeOptions;
  readonly sender: HookSender;
  readonly primary: PrimaryLimits;
  readonly secondary: SecondaryLimits;
  /** Replaced on reset. */
  state: GitHubFakeState;
}

const callers = new WeakMap<FastifyRequest, FakeUser | null>();

/** Set by the API gate: the authenticated user, or null for an anonymous request. */
export function setCaller(request: FastifyRequest, user: FakeUser | null): void {
  callers.set(request, user);
}

export function callerOf(request: FastifyRequest): FakeUser | null {
  return callers.get(request) ?? null;
}

/** The repository a route names (`/repos/:owner/:repo/…` or `/repositories/:id/…`), if the caller may see it. */
export function repoOf(ctx: GitHubFakeContext, request: FastifyRequest): FakeRepo | undefined {
  const params = request.params as { owner?: string; repo?: string; id?: string };
  const repo =
    params.id !== undefined
      ? ctx.state.repos.get(Number(params.id))
      : ctx.state.findRepo(params.owner ?? '', params.repo ?? '');
  if (!repo) return undefined;
  // A private repository the caller cannot see is a 404, never a 403: GitHub does not confirm it exists.
  if (repo.private && callerOf(request) === null) return undefined;
  return repo;
}

/** Sends an event to every active hook of the repository subscribed to it. */
export function emit(
  ctx: GitHubFakeContext,
  repo: FakeRepo,
  event: string,
  action: string | null,
  payload: Record<string, unknown>,
): void {
  for (const hook of repo.hooks.values()) {
    if (!hook.active) continue;
    if (!hook.events.includes(event) && !hook.events.includes('*')) continue;
    ctx.sender.send(hook, {
      event,
      action,
      payload: JSON.stringify(action ? { action, ...payload } : payload),
    });
  }
}
