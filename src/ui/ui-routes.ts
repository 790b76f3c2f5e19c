import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SCRIPT } from './assets/script.js';
import { STYLES } from './assets/styles.js';
import type { BulkJobs } from './bulk-jobs.js';
import { readCookie, sessionCookie } from './cookies.js';
import { sendPage } from './page-context.js';
import { connectionsRoutes } from './pages/connections.js';
import { deliveriesRoutes } from './pages/deliveries.js';
import { destinationsRoutes } from './pages/destinations.js';
import { eventsRoutes } from './pages/events.js';
import { jobsRoutes } from './pages/jobs.js';
import { overviewRoutes } from './pages/overview.js';
import { signInPage } from './pages/sign-in.js';
import { sourcesRoutes } from './pages/sources.js';
import { syncsRoutes } from './pages/syncs.js';
import { SESSION_COOKIE, type Sessions } from './session.js';
import { setSession, uiAuth } from './ui-auth.js';
import type { UiDeps } from './ui-deps.js';

/** Form posts are small: an action and a few fields. */
const FORM_LIMIT = 64 * 1024;

/** Pages send no script but ours, load nothing from elsewhere, and are never framed. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

function asset(app: FastifyInstance, path: string, type: string, text: string): void {
  const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 16)}"`;
  app.get(path, async (request, reply) => {
    reply.header('content-type', type).header('cache-control', 'no-cache').header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply.send(text);
  });
}

/** A relative `/ui/…` path to go to after sign-in; anything else is the overview (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/ui\/[\w\-./?=&%:+]*$/.test(next) && !next.startsWith('//')
    ? next
    : '/ui/';
}

/** Every route of the dashboard: its gate, sign-in and out, the assets, then the pages. */
export async function uiRoutes(
  app: FastifyInstance,
  deps: UiDeps,
  sessions: Sessions,
  jobs: BulkJobs,
): Promise<void> {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT },
    (_request, body, done) => {
      const fields: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(body as string)) if (!(k in fields)) fields[k] = v;
      done(null, fields);
    },
  );
  app.addHook('onRequest', async (_request, reply) => {
    reply
      .header('content-security-policy', CSP)
      .header('x-frame-options', 'DENY')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin');
  });
  app.addHook('preHandler', uiAuth(sessions));
  // Open live tails would hold the server's close until they end.
  app.addHook('preClose', async () => deps.tails.stop());

  asset(app, '/ui/assets/ui.css', 'text/css; charset=utf-8', STYLES);
  asset(app, '/ui/assets/ui.js', 'text/javascript; charset=utf-8', SCRIPT);
  app.get('/ui', async (_request, reply) => reply.redirect('/ui/', 302));
  // Browsers ask for it on every page without an icon link (the JSON answers of the API): no icon, no 404.
  app.get('/favicon.ico', async (_request, reply) =>
    reply.status(204).header('cache-control', 'max-age=86400').send(),
  );

  app.get<{ Querystring: { next?: string } }>('/ui/sign-in', async (request, reply) => {
    if (!sessions.protected || sessions.read(readCookie(request.headers.cookie, SESSION_COOKIE))) {
      return reply.redirect(safeNext(request.query.next), 303);
    }
    return sendPage(reply, signInPage({ next: safeNext(request.query.next) }));
  });
  app.post<{ Body: Record<string, string> | undefined }>('/ui/sign-in', async (request, reply) => {
    const next = safeNext(request.body?.next);
    const token = request.body?.token;
    if (!sessions.protected) return reply.redirect(next, 303);
    if (typeof token !== 'string' || !sessions.tokenMatches(token)) {
      request.log.warn({ ip: request.ip }, 'dashboard sign-in refused: wrong admin token');
      return sendPage(reply, signInPage({ next, problem: 'That is not the admin token.' }), 401);
    }
    setSession(request, reply, sessions);
    return reply.redirect(next, 303);
  });
  app.post('/ui/sign-out', async (request, reply) => {
    const session = sessions.read(readCookie(request.headers.cookie, SESSION_COOKIE));
    if (session) sessions.signOut(session);
    reply.header(
      'set-cookie',
      sessionCookie(SESSION_COOKIE, '', { maxAge: 0, secure: request.protocol === 'https' }),
    );
    return reply.redirect(sessions.protected ? '/ui/sign-in' : '/ui/', 303);
  });

  await overviewRoutes(app, deps);
  await eventsRoutes(app, deps);
  await deliveriesRoutes(app, deps);
  await jobsRoutes(app, deps, jobs);
  await destinationsRoutes(app, deps);
  await sourcesRoutes(app, deps);
  await connectionsRoutes(app, deps);
  await syncsRoutes(app, deps);
}
