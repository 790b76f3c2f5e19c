import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FakeProviderClock } from '../../fake-kit/index.js';
import { equalText } from './equal-text.js';

/** Sessions idle this long are gone; the client logs in again. */
const SESSION_IDLE_MS = 30 * 60 * 1000;

export type AuthOutcome =
  | { ok: true; via: 'basic' | 'session' }
  | { ok: false; status: 401 | 403; message: string };

/**
 * Finale's two ways in. HTTP Basic with an API key and secret (full account access), or the legacy
 * session: `POST /{account}/api/auth` with `{username, password}` sets a `JSESSIONID` cookie and answers
 * a `sessionSecret` that every POST body must carry (the API is shared with the browser: CSRF).
 * https://support.finaleinventory.com/hc/en-us/articles/115007830648-Getting-Started-with-the-API
 */
export class FinaleAuth {
  readonly keys = new Map<string, string>();
  readonly users = new Map<string, string>();
  private sessions = new Map<string, { secret: string; lastUsed: number }>();

  constructor(
    private readonly clock: FakeProviderClock,
    private readonly defaults: { key: string; secret: string; username: string; password: string },
  ) {
    this.reset();
  }

  reset(): void {
    this.keys.clear();
    this.users.clear();
    this.sessions.clear();
    this.keys.set(this.defaults.key, this.defaults.secret);
    this.users.set(this.defaults.username, this.defaults.password);
  }

  /** A new session for a user whose password matches, or undefined. */
  login(body: unknown): { sessionId: string; sessionSecret: string } | undefined {
    const { username, password } = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    const expected = typeof username === 'string' ? this.users.get(username) : undefined;
    if (expected === undefined || typeof password !== 'string' || !equalText(password, expected))
      return undefined;
    const sessionId = randomBytes(16).toString('hex').toUpperCase();
    const sessionSecret = randomBytes(12).toString('base64url');
    this.sessions.set(sessionId, { secret: sessionSecret, lastUsed: this.clock.now() });
    return { sessionId, sessionSecret };
  }

  /**
   * Checks a request's credentials. A session's POST must carry its `sessionSecret` in the body (the
   * caller strips it before the body is used).
   */
  check(request: FastifyRequest, account: string, body: unknown): AuthOutcome {
    const header = request.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const secret = colon < 0 ? undefined : this.keys.get(decoded.slice(0, colon));
      if (secret === undefined || !equalText(decoded.slice(colon + 1), secret)) {
        return { ok: false, status: 401, message: 'Invalid API key or secret' };
      }
      return { ok: true, via: 'basic' };
    }
    const cookies = parseCookies(request.headers.cookie);
    const id = cookies.JSESSIONID;
    if (!id) return { ok: false, status: 401, message: 'Authentication required' };
    if (cookies.ACCOUNT !== undefined && cookies.ACCOUNT !== account) {
      return { ok: false, status: 401, message: `the session belongs to account ${cookies.ACCOUNT}` };
    }
    const session = this.sessions.get(id);
    const now = this.clock.now();
    if (!session || now - session.lastUsed > SESSION_IDLE_MS) {
      this.sessions.delete(id);
      return { ok: false, status: 401, message: 'Session expired; log in again' };
    }
    session.lastUsed = now;
    if (request.method === 'POST') {
      const given = (body as { sessionSecret?: unknown } | undefined)?.sessionSecret;
      if (typeof given !== 'string' || !equalText(given, session.secret)) {
        return { ok: false, status: 403, message: 'sessionSecret is missing or does not match the session' };
      }
    }
    return { ok: true, via: 'session' };
  }
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}
