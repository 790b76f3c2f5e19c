import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookie, sessionCookie } from './cookies.js';
import { html } from './html.js';
import { SESSION_COOKIE, type Session, type Sessions } from './session.js';

const sessions = new WeakMap<FastifyRequest, Session>();

/** The session of a request that passed `uiAuth` (every page but sign-in and the assets). */
export function sessionOf(request: FastifyRequest): Session {
  const session = sessions.get(request);
  if (!session) throw new Error('uiAuth did not run for this route');
  return session;
}

const PUBLIC = /^\/(?:ui\/sign-in|ui\/assets\/|favicon\.ico$)/;
const SAFE = new Set(['GET', 'HEAD']);

export function setSession(request: FastifyRequest, reply: FastifyReply, sessionsOf: Sessions): Session {
  const { session, cookie } = sessionsOf.issue();
  reply.header(
    'set-cookie',
    sessionCookie(SESSION_COOKIE, cookie, {
      maxAge: sessionsOf.ttlSeconds,
      secure: request.protocol === 'https',
    }),
  );
  sessions.set(request, session);
  return session;
}

/**
 * The dashboard's gate (a preHandler, so form bodies are parsed): a valid session cookie, else sign-in
 * (or, with no admin token, a session handed out on the spot); and on every change, the session's CSRF
 * token in the form. A signed-in user arriving from another site (a link, the OAuth provider's redirect)
 * has no cookie on that first request — SameSite=Strict — so the page reloads itself once, same-site.
 */
export function uiAuth(sessionsOf: Sessions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    if (PUBLIC.test(path)) return;
    let session = sessionsOf.read(readCookie(request.headers.cookie, SESSION_COOKIE));
    if (!session && !sessionsOf.protected) session = setSession(request, reply, sessionsOf);
    if (!session) {
      if (SAFE.has(request.method) && request.headers['sec-fetch-site'] === 'cross-site') {
        return reply
          .header('content-type', 'text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(
            html`<!doctype html><html lang="en"><meta charset="utf-8"><link rel="icon" href="data:,"><meta http-equiv="refresh" content="0"><title>Patchbay</title><p><a href="${request.url}">Continue to the dashboard</a></p></html>`
              .text,
          );
      }
      const next = SAFE.has(request.method) ? request.url : '/ui/';
      return reply.redirect(`/ui/sign-in?next=${encodeURIComponent(next)}`, 303);
    }
    sessions.set(request, session);
    if (SAFE.has(request.method)) return;
    const body = request.body as Record<string, unknown> | undefined;
    if (!sessionsOf.csrfMatches(session, body?._csrf)) {
      return reply
        .status(403)
        .header('content-type', 'text/html; charset=utf-8')
        .send(
          html`<!doctype html><html lang="en"><meta charset="utf-8"><link rel="icon" href="data:,"><title>Refused · Patchbay</title><main><h1>Refused</h1><p>This form was not sent by a page of this dashboard, or it is out of date (CSRF check). Nothing was changed.</p><p><a href="/ui/">Back to the dashboard</a></p></main></html>`
            .text,
        );
    }
  };
}
