import type { FastifyInstance } from 'fastify';
import { type FakeKit, type FakeProvider, type RunningFake, startFakeServer } from '../../fake-kit/index.js';
import { apiGate } from './api-gate.js';
import type { GitHubFakeContext } from './context.js';
import { notFound } from './github-errors.js';
import { HookSender } from './hook-sender.js';
import { type GitHubFakeOptions, resolveOptions } from './options.js';
import { PrimaryLimits } from './primary-limit.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { hookRoutes } from './routes/hooks.js';
import { issueRoutes } from './routes/issues.js';
import { oauthRoutes } from './routes/oauth.js';
import { pullRoutes } from './routes/pulls.js';
import { repoRoutes } from './routes/repos.js';
import { SecondaryLimits } from './secondary-limits.js';
import { applySeed, type GitHubSeed, seedError } from './seed.js';
import { GitHubFakeState } from './state.js';

export interface RunningGitHubFake extends RunningFake {
  /** Resolves once every hook delivery under way has been made. */
  deliveriesSettled(): Promise<void>;
}

/**
 * A faithful GitHub REST fake: the authenticated user's repositories, issues, pull requests, hooks and
 * their deliveries, primary and secondary rate limits, `link` pagination, the OAuth app web flow.
 * See docs/connectors/github.md for what it reproduces.
 */
export function githubFake(
  options: GitHubFakeOptions = {},
): FakeProvider & { deliveriesSettled(): Promise<void> } {
  const resolved = resolveOptions(options);
  let ctx: GitHubFakeContext | undefined;
  const resets: (() => void)[] = [];
  const fresh = (kit: FakeKit) => {
    const state = new GitHubFakeState(resolved.login);
    state.createRepo({ name: 'hello-world', description: 'My first repository on GitHub!' }, kit.clock.now());
    return state;
  };
  const context = (kit: FakeKit): GitHubFakeContext => {
    if (!ctx) {
      const made: Omit<GitHubFakeContext, 'sender'> = {
        kit,
        options: resolved,
        state: fresh(kit),
        primary: new PrimaryLimits((key) =>
          key.startsWith('user:') ? resolved.rateLimit : resolved.anonymousRateLimit,
        ),
        secondary: new SecondaryLimits(resolved.secondaryLimits),
      };
      ctx = { ...made, sender: new HookSender(() => ctx!.state, kit.clock, resolved.deliveryTimeoutMs) };
    }
    return ctx;
  };
  return {
    name: 'github',
    routes(app: FastifyInstance, kit: FakeKit) {
      const c = context(kit);
      apiGate(app, c);
      repoRoutes(app, c);
      issueRoutes(app, c);
      pullRoutes(app, c);
      hookRoutes(app, c);
      deliveryRoutes(app, c);
      resets.push(oauthRoutes(app, c));
      app.setNotFoundHandler((_request, reply) => notFound(reply));
    },
    describe(kit) {
      const c = context(kit);
      return {
        apiUrl: 'this origin (what @octokit/rest calls baseUrl)',
        user: c.state.viewer.login,
        tokens: 'any token of GitHub’s forms: ghp_…, github_pat_…, gho_…, ghu_…, ghs_…, or 40 hex digits',
        oauthApp: {
          clientId: resolved.oauthApp.clientId,
          clientSecret: resolved.oauthApp.clientSecret,
          authorizationUrl: '/login/oauth/authorize',
          tokenUrl: '/login/oauth/access_token',
        },
        rateLimit: {
          authenticated: resolved.rateLimit,
          anonymous: resolved.anonymousRateLimit,
          status: resolved.rateLimitStatus,
        },
        secondaryLimits: resolved.secondaryLimits,
        repos: [...c.state.repos.values()].map((r) => `${r.owner.login}/${r.name}`),
      };
    },
    async reset(kit) {
      const c = context(kit);
      await c.sender.idle();
      c.state = fresh(kit);
      c.primary.reset();
      c.secondary.reset();
      for (const reset of resets) reset();
    },
    seed(input, kit) {
      const problem = seedError(input);
      if (problem) throw Object.assign(new Error(problem), { statusCode: 400 });
      const c = context(kit);
      const seed = input as GitHubSeed;
      const made = applySeed(c.state, seed, kit.clock.now());
      if (seed.rateLimitRemaining !== undefined) {
        const key = `user:${c.state.viewer.id}`;
        c.primary.exhaust(key, kit.clock.now());
        for (let i = 0; i < seed.rateLimitRemaining; i++) c.primary.refund(key, kit.clock.now());
      }
      return made;
    },
    stats(kit) {
      const c = context(kit);
      const deliveries = c.state.deliveries;
      return {
        repos: c.state.repos.size,
        issues: [...c.state.repos.values()].reduce((n, r) => n + r.issues.size, 0),
        deliveries: deliveries.length,
        failedDeliveries: deliveries.filter((d) => d.status !== 'OK').length,
      };
    },
    deliveriesSettled: () => ctx?.sender.idle() ?? Promise.resolve(),
    close() {
      ctx?.sender.close();
    },
  };
}

/** Starts the GitHub fake on 127.0.0.1 (an ephemeral port unless `port` is given). */
export async function startGitHubFake(options: GitHubFakeOptions = {}): Promise<RunningGitHubFake> {
  const provider = githubFake(options);
  const running = await startFakeServer(provider, options);
  return { ...running, deliveriesSettled: provider.deliveriesSettled };
}
