import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { errorBody } from './errors.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Refuses to serve the admin API to a network without a token: a fresh install must not be open. */
export function assertAdminTokenForBind(host: string, token: string | undefined): void {
  if (!token && !isLoopbackHost(host)) {
    throw new PatchbayError(
      ErrorCode.CONFIG_INVALID,
      `refusing to listen on ${host} without an admin token: set PATCHBAY_ADMIN_TOKEN (16+ characters) or bind to 127.0.0.1`,
    );
  }
}

/** The start-up line's words on the admin API: where it is and whether a token protects it. */
export function adminApiNotice(baseUrl: string, token: string | undefined): string {
  return token
    ? `admin API at ${baseUrl}/api/v1, protected by the admin token (Authorization: Bearer …)`
    : `admin API at ${baseUrl}/api/v1, OPEN to this machine: no admin token (set PATCHBAY_ADMIN_TOKEN to protect it)`;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * A preHandler that requires `Authorization: Bearer <token>`. Both sides are hashed first so the
 * comparison is constant-time whatever the lengths. With no token configured (loopback only) the
 * admin API is open to this machine.
 */
export function adminAuth(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!expected) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      await reply
        .status(401)
        .header('www-authenticate', 'Bearer realm="patchbay"')
        .send(errorBody(request, ErrorCode.UNAUTHORIZED, 'missing or invalid bearer token'));
    }
  };
}
