import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FakeKit } from '../../fake-kit/index.js';
import type { AccessTokens } from './access-tokens.js';
import type { Directory } from './directory.js';
import { errorBody, GraphFault, requestIds, unknownSegment } from './graph-errors.js';
import { type GraphReply, type GraphRequest, type GraphRoute, ROLES } from './graph-route.js';
import type { MailboxThrottle } from './mailbox-throttle.js';
import { preferences, queryOptions } from './odata-query.js';

export const JSON_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** Set on `$batch` sub-requests so their links point at the origin the batch came in on. */
export const ORIGIN_HEADER = 'x-patchbay-fake-origin';

export interface RouterDeps {
  kit: FakeKit;
  tokens: AccessTokens;
  directory: Directory;
  throttle: MailboxThrottle;
  latencyMs: () => number;
}

/**
 * Serves `/v1.0/*` through one dispatcher, because Graph's OData paths do not fit a path router:
 * segments are case-insensitive (`Users/…/Messages`), keys come as `mailFolders('inbox')` as well as
 * `mailFolders/inbox`, and an unknown segment is a 400 naming it. Every request is authenticated; one
 * that reaches a mailbox takes a slot of that mailbox's throttle for as long as it runs.
 */
export function registerGraphRoutes(
  app: FastifyInstance,
  deps: RouterDeps,
  routes: readonly GraphRoute[],
): void {
  // A literal segment wins over a capture (`…/messages/delta` before `…/messages/:message`).
  const captures = (parts: string[]) => parts.filter((p) => p.startsWith(':')).length;
  const compiled = routes
    .map((route) => ({ route, parts: route.pattern.split('/') }))
    .sort((a, b) => captures(a.parts) - captures(b.parts));
  app.route({
    method: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
    url: '/v1.0/*',
    handler: async (request, reply) => {
      const ids = requestIds(request.headers);
      const now = deps.kit.clock.now();
      try {
        const result = await dispatch(request, deps, compiled, now);
        return send(reply, ids, result);
      } catch (err) {
        if (!(err instanceof GraphFault)) throw err;
        deps.kit.count(`graph:${err.status}:${err.code}`);
        return send(reply, ids, { status: err.status, body: errorBody(err, ids, now), headers: err.headers });
      }
    },
  });
}

type Compiled = { route: GraphRoute; parts: string[] };

async function dispatch(request: FastifyRequest, deps: RouterDeps, routes: Compiled[], now: number) {
  const claims = deps.tokens.verify(request.headers.authorization, now);
  const segments = segmentsOf(request.url);
  if (segments[0]?.toLowerCase() === 'me') {
    throw new GraphFault(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
  }
  const { route, parts, params } = match(routes, segments, request.method);
  const roles = ROLES[route.access];
  if (roles.length > 0 && !claims.roles.some((r) => roles.includes(r))) {
    if (route.access === 'users.read') {
      throw new GraphFault(
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    }
    throw new GraphFault(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
  }
  let release = () => {};
  const graphRequest: GraphRequest = {
    method: request.method,
    params,
    query: queryOptions(request.url),
    headers: request.headers,
    body: request.body,
    claims,
    mailbox: undefined as never,
    origin: originOf(request, deps.kit),
    prefer: preferences(request.headers.prefer),
    now,
  };
  if (parts[0] === 'users' && parts.length > 2) {
    const mailbox = deps.directory.user(params.user!);
    if (!mailbox)
      throw new GraphFault(404, 'ErrorInvalidUser', `The requested user '${params.user}' is invalid.`);
    graphRequest.mailbox = mailbox;
    release = deps.throttle.acquire(claims.appid, mailbox.user.id, now);
  }
  try {
    const latency = deps.latencyMs();
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    return await route.handle(graphRequest);
  } finally {
    release();
  }
}

function match(routes: Compiled[], segments: string[], method: string) {
  const lower = segments.map((s) => s.toLowerCase());
  let allowed = false;
  for (const { route, parts } of routes) {
    if (parts.length !== segments.length) continue;
    if (!parts.every((part, i) => part.startsWith(':') || part === lower[i])) continue;
    if (route.method !== method) {
      allowed = true;
      continue;
    }
    const params: Record<string, string> = {};
    parts.forEach((part, i) => {
      if (part.startsWith(':')) params[part.slice(1)] = segments[i]!;
    });
    return { route, parts, params };
  }
  if (allowed)
    throw new GraphFault(405, 'BadRequest', `The HTTP method '${method}' is not allowed for this resource.`);
  // Name the first segment no route knows at that position, as Graph does.
  for (let i = 0; i < segments.length; i++) {
    const known = routes.some(
      ({ parts }) =>
        parts.length > i &&
        parts.slice(0, i + 1).every((part, j) => part.startsWith(':') || part === lower[j]),
    );
    if (!known) throw unknownSegment(segments[i]!);
  }
  throw unknownSegment(segments.at(-1) ?? '');
}

/**
 * `/v1.0/users/x/mailFolders('inbox')/messages` → `users x mailFolders inbox messages`: a key in
 * parentheses (quoted or not) becomes its own segment; each is percent-decoded.
 */
export function segmentsOf(url: string): string[] {
  const path = url.split('?')[0]!.replace(/^\/v1\.0\/?/, '');
  const out: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    const decoded = safeDecode(raw);
    const keyed = /^([^()]+)\((.*)\)$/.exec(decoded);
    if (keyed) {
      out.push(keyed[1]!);
      out.push(keyed[2]!.replace(/^'(.*)'$/, '$1').replace(/''/g, "'"));
    } else {
      out.push(decoded);
    }
  }
  return out;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function originOf(request: FastifyRequest, kit: FakeKit): string {
  const forwarded = request.headers[ORIGIN_HEADER];
  return typeof forwarded === 'string' ? forwarded : kit.origin(request);
}

function send(reply: FastifyReply, ids: { requestId: string; clientRequestId: string }, result: GraphReply) {
  reply
    .status(result.status)
    .header('request-id', ids.requestId)
    .header('client-request-id', ids.clientRequestId)
    .header('x-ms-ags-diagnostic', '{"ServerInfo":{"DataCenter":"Patchbay Fake","Slice":"E","Ring":"0"}}');
  if (result.headers) reply.headers(result.headers);
  if (result.raw) return reply.type(result.raw.contentType).send(result.raw.bytes);
  if (result.body === undefined) return reply.send();
  return reply.type(JSON_TYPE).send(JSON.stringify(result.body));
}
