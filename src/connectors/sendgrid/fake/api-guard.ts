import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FixedWindows } from '../../fake-kit/index.js';
import type { LimitGroup } from './rate-limits.js';
import { MESSAGES, sendError } from './sendgrid-errors.js';

/** Run before a route: answers 401/403/406/429 itself and returns false, or lets the request through. */
export type Guard = (request: FastifyRequest, reply: FastifyReply) => boolean;

/** A key's access: every scope, or the scopes it was seeded with. */
export type Access = ReadonlySet<string> | 'all';

export interface GuardDeps {
  limiter: FixedWindows<LimitGroup>;
  accessOf(key: string): Access | undefined;
  now(): number;
  count(name: string): void;
}

const ACCEPTS_JSON = /(^|,)\s*(application\/json|application\/\*|\*\/\*)\s*(;|,|$)/i;

/**
 * The checks every v3 endpoint makes, in SendGrid's order: a bearer key (401 "authorization required"
 * without one, 401 "…grant is invalid…" for a key it does not know), the key's scopes (403), an
 * `Accept` that allows JSON (406), then the endpoint group's refresh period (429). The rate-limit
 * headers go on every answer past the auth checks.
 */
export function apiGuard(deps: GuardDeps) {
  return (group: LimitGroup) =>
    (scope: string): Guard =>
    (request, reply) => {
      const refuse = (status: number, message: string) => {
        sendError(reply, status, message);
        return false;
      };
      const auth = request.headers.authorization;
      if (!auth) return refuse(401, MESSAGES.authorizationRequired);
      const key = /^Bearer (.+)$/.exec(auth)?.[1];
      const access = key === undefined ? undefined : deps.accessOf(key);
      if (key === undefined || access === undefined) return refuse(401, MESSAGES.invalidGrant);
      if (access !== 'all' && !access.has(scope)) return refuse(403, MESSAGES.forbidden);
      const accept = request.headers.accept;
      if (!accept || !ACCEPTS_JSON.test(accept)) return refuse(406, MESSAGES.notAcceptable);
      const answer = deps.limiter.take(key, group, deps.now());
      reply.headers({
        'x-ratelimit-limit': String(answer.limit),
        'x-ratelimit-remaining': String(answer.remaining),
        'x-ratelimit-reset': String(Math.ceil(answer.resetAt / 1000)),
      });
      if (!answer.allowed) {
        deps.count(`429:${group}`);
        return refuse(429, MESSAGES.tooManyRequests);
      }
      return true;
    };
}
