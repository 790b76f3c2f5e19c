import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { callerOf as authOf } from './auth.js';
import { callerOf, type GitHubFakeContext, setCaller } from './context.js';
import { sendError } from './github-errors.js';

const RATE_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';
const SECONDARY_DOCS =
  'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';

/** Paths that are not the REST API: the control plane and the OAuth web flow (github.com, not api.github.com). */
function isApi(path: string): boolean {
  return !path.startsWith('/_fake') && !path.startsWith('/login/oauth');
}

const NO_USER_AGENT =
  'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n';

const counted = new WeakMap<FastifyRequest, string>();

/**
 * What GitHub does before any REST route: authenticate, count the request against the primary limit
 * (`GET /rate_limit` is free), apply the secondary limits, and put the lowercase `x-ratelimit-*`
 * headers on every answer. A limit hit is a 403 (or 429) told apart from a permission 403 by
 * `x-ratelimit-remaining: 0` (primary) or `retry-after` and the message (secondary).
 * A `304 Not Modified` answer to a conditional request does not count.
 */
export function apiGate(app: FastifyInstance, ctx: GitHubFakeContext): void {
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (!isApi(path)) return;
    const requestId = randomBytes(8)
      .toString('hex')
      .toUpperCase()
      .replace(/(.{4})(?=.)/g, '$1:');
    reply.header('x-github-request-id', requestId);
    reply.header('x-github-media-type', 'github.v3; format=json');
    reply.header('x-github-api-version-selected', '2022-11-28');
    // "All API requests MUST include a valid User-Agent header" — GitHub refuses the rest before anything.
    if (!request.headers['user-agent']) {
      return reply.status(403).type('text/plain; charset=utf-8').send(NO_USER_AGENT);
    }
    const auth = authOf(request.headers.authorization);
    const now = ctx.kit.clock.now();
    const key = auth.kind === 'token' ? `user:${ctx.state.viewer.id}` : `ip:${request.ip}`;
    const quotaHeaders = (quota: { limit: number; remaining: number; used: number; reset: number }) =>
      reply.headers({
        'x-ratelimit-limit': String(quota.limit),
        'x-ratelimit-remaining': String(quota.remaining),
        'x-ratelimit-reset': String(quota.reset),
        'x-ratelimit-used': String(quota.used),
        'x-ratelimit-resource': 'core',
      });
    if (auth.kind === 'bad') {
      quotaHeaders(ctx.primary.state(key, now));
      return sendError(reply, 401, 'Bad credentials');
    }
    const user = auth.kind === 'token' ? ctx.state.viewer : null;
    setCaller(request, user);
    if (path === '/rate_limit') {
      quotaHeaders(ctx.primary.state(key, now));
      return;
    }
    const quota = ctx.primary.take(key, now);
    quotaHeaders(quota);
    if (quota.exceeded) {
      ctx.kit.count('rate-limited:primary');
      const who = user
        ? `user ID ${user.id}.`
        : `${request.ip}. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)`;
      return sendError(reply, ctx.options.rateLimitStatus, `API rate limit exceeded for ${who}`, RATE_DOCS);
    }
    counted.set(request, key);
    const route = request.routeOptions.url ?? path;
    const creates = (request.routeOptions.config as { creates?: boolean } | undefined)?.creates === true;
    const hit = ctx.secondary.admit(key, `${request.method} ${route}`, request.method, creates, now);
    if (hit) {
      ctx.kit.count(`rate-limited:secondary:${hit.kind}`);
      if (hit.retryAfterS !== undefined) reply.header('retry-after', String(hit.retryAfterS));
      const message =
        hit.kind === 'content'
          ? 'You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.'
          : 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
      return sendError(
        reply,
        ctx.options.rateLimitStatus,
        `${message} If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
        SECONDARY_DOCS,
      );
    }
    ctx.secondary.enter(key);
    reply.raw.once('close', () => ctx.secondary.leave(key));
    if (user) reply.header('x-oauth-scopes', 'repo, admin:repo_hook');
  });

  // Conditional requests: an ETag on every JSON GET, and a 304 that gives the request back.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    if (!isApi(request.url.split('?')[0]!)) return payload;
    const etag = `W/"${createHash('sha1').update(payload).digest('hex')}"`;
    reply.header('etag', etag);
    if (request.headers['if-none-match'] !== etag) return payload;
    const key = counted.get(request);
    if (key) {
      ctx.primary.refund(key, ctx.kit.clock.now());
      const quota = ctx.primary.state(key, ctx.kit.clock.now());
      reply.header('x-ratelimit-remaining', String(quota.remaining));
      reply.header('x-ratelimit-used', String(quota.used));
    }
    reply.status(304);
    reply.removeHeader('content-type');
    return '';
  });
}

/** 401 for a route that needs a user, when the caller is anonymous. */
export function requireUser(request: FastifyRequest, reply: FastifyReply, docs: string): boolean {
  if (callerOf(request)) return true;
  sendError(reply, 401, 'Requires authentication', docs);
  return false;
}
