import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';

/** The dashboard's session cookie. */
export const SESSION_COOKIE = 'patchbay_session';

export interface Session {
  id: string;
  expiresAt: number;
  /** The token to put in every form (`_csrf`); tied to this session. */
  csrf: string;
}

export interface SessionOptions {
  /** The admin token; sessions are signed with a key derived from it. Undefined: the UI is open. */
  adminToken: string | undefined;
  /** Lifetime of a session from sign-in, in ms. */
  ttlMs: number;
  clock: Clock;
}

/**
 * Stateless signed sessions: `<id>.<expiresAt>.<mac>`, the MAC keyed by the admin token (so changing the
 * token signs everyone out, and every process of an installation accepts the same cookie). With no admin
 * token the key is random per process and sessions are handed out without sign-in (the UI is open on
 * loopback, like the API), only so that forms still carry a CSRF token. Signing out forgets the session
 * in this process (docs/decisions/0101-dashboard-sessions.md says what that leaves).
 */
export class Sessions {
  private readonly key: Buffer;
  private readonly tokenDigest: Buffer | undefined;
  private readonly signedOut = new Map<string, number>();

  constructor(private readonly options: SessionOptions) {
    const { adminToken } = options;
    this.tokenDigest = adminToken === undefined ? undefined : digest(adminToken);
    this.key =
      adminToken === undefined
        ? randomBytes(32)
        : createHash('sha256').update('patchbay-ui-session\u0000').update(adminToken).digest();
  }

  /** True when sign-in is required (an admin token is set). */
  get protected(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** Lifetime of a session, in whole seconds (the cookie's Max-Age). */
  get ttlSeconds(): number {
    return Math.floor(this.options.ttlMs / 1000);
  }

  /** Constant-time check of a token typed into the sign-in form. */
  tokenMatches(candidate: string): boolean {
    return this.tokenDigest !== undefined && timingSafeEqual(digest(candidate), this.tokenDigest);
  }

  /** A new session and its cookie value. */
  issue(): { session: Session; cookie: string } {
    const id = randomBytes(18).toString('base64url');
    const expiresAt = this.options.clock.now() + this.options.ttlMs;
    const body = `${id}.${expiresAt}`;
    return { session: this.session(id, expiresAt), cookie: `${body}.${this.mac(body)}` };
  }

  /** The session a cookie value names, if it is genuine, unexpired and not signed out. */
  read(cookie: string | undefined): Session | undefined {
    if (!cookie) return undefined;
    const parts = cookie.split('.');
    if (parts.length !== 3) return undefined;
    const [id, expires, mac] = parts as [string, string, string];
    if (!/^[\w-]{24}$/.test(id) || !/^\d{1,16}$/.test(expires)) return undefined;
    if (!equal(mac, this.mac(`${id}.${expires}`))) return undefined;
    const expiresAt = Number(expires);
    const now = this.options.clock.now();
    if (expiresAt <= now || this.signedOut.has(id)) return undefined;
    return this.session(id, expiresAt);
  }

  /** Forgets a session here (its cookie is cleared by the caller). */
  signOut(session: Session): void {
    const now = this.options.clock.now();
    for (const [id, expiresAt] of this.signedOut) if (expiresAt <= now) this.signedOut.delete(id);
    this.signedOut.set(session.id, session.expiresAt);
  }

  /** Constant-time check of a form's `_csrf` against the session's. */
  csrfMatches(session: Session, candidate: unknown): boolean {
    return typeof candidate === 'string' && equal(candidate, session.csrf);
  }

  private session(id: string, expiresAt: number): Session {
    return { id, expiresAt, csrf: this.mac(`csrf.${id}`) };
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function equal(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
