import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { type AppRegistration, AppRegistry } from './apps.js';
import { GraphFault } from './graph-errors.js';

/** Entra ID's app-only tokens last an hour less a second (G1: `expires_in: 3599`). */
export const TOKEN_LIFETIME_S = 3599;

export interface TokenClaims {
  appid: string;
  tid: string;
  roles: string[];
  exp: number;
  iat: number;
}

/** Graph's own app id: the `client_id` its 401 challenges name. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/**
 * Access tokens shaped like Entra's JWTs, signed with a key of this fake instance so they stay valid across
 * `/_fake/reset` (a client caching one keeps working) and fail on another instance.
 */
export class AccessTokens {
  private readonly key = randomBytes(32);

  issue(app: AppRegistration, now: number): string {
    const iat = Math.floor(now / 1000);
    const header = { typ: 'JWT', alg: 'HS256', kid: 'patchbay-fake' };
    const claims = {
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${app.tenantId}/`,
      iat,
      nbf: iat,
      exp: iat + TOKEN_LIFETIME_S,
      appid: app.clientId,
      app_displayname: app.displayName,
      idtyp: 'app',
      oid: randomUUID(),
      roles: AppRegistry.roles(app),
      tid: app.tenantId,
    };
    const body = `${b64(header)}.${b64(claims)}`;
    return `${body}.${this.sign(body)}`;
  }

  /** The claims of a bearer token this fake issued and that has not expired, or Graph's 401. */
  verify(authorization: string | undefined, now: number): TokenClaims {
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    if (!match) throw unauthorized('Access token is empty.');
    const parts = match[1]!.trim().split('.');
    if (parts.length !== 3) throw unauthorized('CompactToken parsing failed with error code: 80049217');
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw unauthorized('Access token validation failure. Invalid audience.');
    }
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
    if (claims.exp * 1000 <= now) throw unauthorized('Lifetime validation failed, the token is expired.');
    return claims;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function unauthorized(message: string): GraphFault {
  return new GraphFault(401, 'InvalidAuthenticationToken', message, {
    'WWW-Authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
  });
}
