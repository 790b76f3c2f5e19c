import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GitHubFakeContext } from '../context.js';

const CODE_TTL_MS = 10 * 60_000;
const ERROR_DOCS =
  'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

interface Grant {
  clientId: string;
  redirectUri: string | undefined;
  scope: string;
  expiresAt: number;
}

/**
 * The OAuth app web flow (served by github.com, not the API host): `/login/oauth/authorize` approves
 * at once as the fake user and redirects with a code; `/login/oauth/access_token` exchanges it. Two
 * GitHub habits clients trip on: the token answer is form-encoded unless the request says
 * `Accept: application/json`, and errors come back with status **200** and an `error` field. Scopes are
 * comma-separated. OAuth app tokens do not expire and come without a refresh token.
 * https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
 */
export function oauthRoutes(app: FastifyInstance, ctx: GitHubFakeContext): () => void {
  const grants = new Map<string, Grant>();
  const app0 = ctx.options.oauthApp;

  app.get('/login/oauth/authorize', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    if (q.client_id !== app0.clientId) return reply.status(404).type('text/plain').send('Not Found');
    if (!q.redirect_uri)
      return reply.status(400).type('text/plain').send('redirect_uri is required by this fake');
    const code = randomBytes(10).toString('hex');
    const scope = (q.scope ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .join(',');
    grants.set(code, {
      clientId: q.client_id,
      redirectUri: q.redirect_uri,
      scope,
      expiresAt: ctx.kit.clock.now() + CODE_TTL_MS,
    });
    const target = new URL(q.redirect_uri);
    target.searchParams.set('code', code);
    if (q.state !== undefined) target.searchParams.set('state', q.state);
    return reply.redirect(target.toString(), 302);
  });

  app.post('/login/oauth/access_token', async (request, reply) => {
    const params = paramsOf(request);
    const answer = (body: Record<string, string>) => respond(request, reply, body);
    const fail = (error: string, description: string) =>
      answer({ error, error_description: description, error_uri: ERROR_DOCS });
    const { clientId, clientSecret } = clientOf(request, params);
    if (clientId !== app0.clientId || !sameSecret(clientSecret, app0.clientSecret)) {
      return fail('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
    }
    const grant = params.code ? grants.get(params.code) : undefined;
    if (!grant || grant.expiresAt < ctx.kit.clock.now() || grant.clientId !== clientId) {
      return fail('bad_verification_code', 'The code passed is incorrect or expired.');
    }
    if (params.redirect_uri !== undefined && params.redirect_uri !== grant.redirectUri) {
      return fail(
        'redirect_uri_mismatch',
        'The redirect_uri MUST match the registered callback URL for this application.',
      );
    }
    grants.delete(params.code!);
    ctx.kit.count('oauth:tokens');
    return answer({
      access_token: `gho_${randomBytes(18).toString('hex')}`,
      token_type: 'bearer',
      scope: grant.scope,
    });
  });

  return () => grants.clear();
}

function paramsOf(request: FastifyRequest): Record<string, string | undefined> {
  const query = request.query as Record<string, string | undefined>;
  const body = request.body;
  if (Buffer.isBuffer(body))
    return { ...query, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) };
  if (body && typeof body === 'object') {
    return { ...query, ...Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)])) };
  }
  return query;
}

/** The client id and secret from the form (client_secret_post) or Basic auth (client_secret_basic). */
function clientOf(request: FastifyRequest, params: Record<string, string | undefined>) {
  const auth = request.headers.authorization;
  if (auth?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon)),
      clientSecret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  }
  return { clientId: params.client_id, clientSecret: params.client_secret };
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function respond(request: FastifyRequest, reply: FastifyReply, body: Record<string, string>): FastifyReply {
  if ((request.headers.accept ?? '').includes('application/json')) return reply.status(200).send(body);
  return reply
    .status(200)
    .type('application/x-www-form-urlencoded; charset=utf-8')
    .send(new URLSearchParams(body).toString());
}
