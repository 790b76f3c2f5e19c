import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { isLoopbackHost } from '../core/api/admin-exposure.js';
import { ErrorCode } from '../core/errors.js';
import { errorBody } from './errors.js';

export interface AdminRequestGuardOptions {
  /** Host names answered to besides the loopback ones (`localhost`, `127.0.0.0/8`, `[::1]`), lower case. */
  allowedHosts: readonly string[];
  /**
   * Pages for a browser (the dashboard) rather than a JSON API: a navigation from another site (a link,
   * an OAuth provider sending the user back) may GET a page — it carries no SameSite=Strict cookie, so
   * it acts as no one — and changes may be forms, which the pages protect with a CSRF token. Changes
   * from another origin are still refused. Defaults to false.
   */
  browser?: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

const STATE_CHANGES = new Set(['POST', 'PUT', 'PATCH']);
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The rules an API a browser can reach keeps, as one `onRequest` hook (the admin API mounts it; the
 * dashboard mounts the same one). Each defends against a page on another site driving the API through
 * the user's browser (docs/security.md):
 *
 * - `Host` must be a configured name: through DNS rebinding, `attacker.example` resolves to 127.0.0.1
 *   and its page becomes "same-origin" with the API — only the Host header still says whose page it is
 *   (421);
 * - CORS preflights are refused, and so is a request whose `Origin` is not this very host, or that the
 *   browser marks `Sec-Fetch-Site` other than `same-origin`/`none` (403);
 * - POST, PUT and PATCH need a JSON content type, even without a body: a cross-site page can only send
 *   "simple" requests (`text/plain`, forms, no type) without a preflight (415).
 */
export function adminRequestGuard(options: AdminRequestGuardOptions): onRequestAsyncHookHandler {
  const allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const refuse = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    code: string,
    message: string,
  ) => reply.status(status).send(errorBody(request, code, message));

  const browser = options.browser ?? false;
  return async (request, reply) => {
    const host = request.host;
    const hostname = hostnameOf(host);
    if (!isLoopbackHost(hostname) && !allowed.has(hostname)) {
      return refuse(
        request,
        reply,
        421,
        ErrorCode.HOST_NOT_ALLOWED,
        `this server does not answer to host ${JSON.stringify(host.slice(0, 100))}; add it to server.allowedHosts`,
      );
    }
    const headers = request.headers;
    if (request.method === 'OPTIONS') {
      return refuse(
        request,
        reply,
        403,
        ErrorCode.ORIGIN_NOT_ALLOWED,
        'cross-origin requests are not allowed',
      );
    }
    if (browser && SAFE_METHODS.has(request.method)) return;
    const origin = headers.origin;
    if (origin !== undefined && !isSameOrigin(origin, host)) {
      return refuse(
        request,
        reply,
        403,
        ErrorCode.ORIGIN_NOT_ALLOWED,
        'requests from another origin are not allowed',
      );
    }
    const site = headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      return refuse(request, reply, 403, ErrorCode.ORIGIN_NOT_ALLOWED, `${site} requests are not allowed`);
    }
    if (!browser && STATE_CHANGES.has(request.method) && !JSON_TYPE.test(headers['content-type'] ?? '')) {
      return refuse(
        request,
        reply,
        415,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        `${request.method} needs content-type: application/json (also without a body)`,
      );
    }
  };
}

/** `Host` without its port, lower case; an IPv6 literal without its brackets. */
export function hostnameOf(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(1, lower.indexOf(']'));
  const colon = lower.indexOf(':');
  return colon < 0 ? lower : lower.slice(0, colon);
}

/** An `Origin` of the same host and port as the request (the scheme is the proxy's business). */
function isSameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host
    );
  } catch {
    return false;
  }
}
