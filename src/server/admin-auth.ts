import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../core/errors.js';
import { errorBody } from './errors.js';

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
