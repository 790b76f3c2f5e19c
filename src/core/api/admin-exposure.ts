import { ErrorCode, PatchbayError } from '../errors.js';

/**
 * Who may reach the admin API: the rules `start` applies before it listens, and that `doctor` checks
 * without loading the server.
 */

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
