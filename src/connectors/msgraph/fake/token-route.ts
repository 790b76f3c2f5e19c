import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FakeKit } from '../../fake-kit/index.js';
import { type AccessTokens, TOKEN_LIFETIME_S } from './access-tokens.js';
import type { AppRegistry } from './apps.js';
import { DEFAULT_DOMAIN, DEFAULT_TENANT_ID } from './directory.js';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/**
 * The Entra ID token endpoint for the client-credentials grant (G1): form-encoded `client_id`,
 * `client_secret` (or HTTP Basic), `scope=https://graph.microsoft.com/.default`,
 * `grant_type=client_credentials`. Success is `{ token_type, expires_in: 3599, access_token }` with no
 * refresh token; errors are Entra's `{ error, error_description: "AADSTS…", error_codes, … }`.
 */
export function tokenRoute(
  app: FastifyInstance,
  kit: FakeKit,
  apps: AppRegistry,
  tokens: AccessTokens,
): void {
  app.post('/:tenant/oauth2/v2.0/token', async (request, reply) => {
    const { tenant } = request.params as { tenant: string };
    const fail = (status: number, error: string, code: number, text: string) =>
      aadError(reply, kit.clock.now(), status, error, code, text);
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/x-www-form-urlencoded/i.test(type) || !Buffer.isBuffer(request.body)) {
      return fail(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    }
    const form = new URLSearchParams(request.body.toString('utf8'));
    const basic = basicCredentials(request.headers.authorization);
    const clientId = form.get('client_id') ?? basic?.id;
    const secret = form.get('client_secret') ?? basic?.secret;
    const grant = form.get('grant_type');
    const scope = form.get('scope');
    const missing = !grant ? 'grant_type' : !clientId ? 'client_id' : !scope ? 'scope' : undefined;
    if (missing) {
      return fail(
        400,
        'invalid_request',
        900144,
        `The request body must contain the following parameter: '${missing}'.`,
      );
    }
    if (grant !== 'client_credentials') {
      return fail(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grant}'.`,
      );
    }
    const tenants = new Set(apps.list().map((a) => a.tenantId.toLowerCase()));
    const tenantId = tenantAlias(tenant.toLowerCase(), tenants);
    if (!tenantId) {
      return fail(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    const registration = apps.get(clientId!);
    if (!registration || registration.tenantId.toLowerCase() !== tenantId) {
      return fail(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (!secret) {
      return fail(
        401,
        'invalid_client',
        7000216,
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
      );
    }
    if (secret !== registration.clientSecret) {
      kit.count('token:invalid_client');
      return fail(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${registration.clientId}'.`,
      );
    }
    if (scope!.split(' ').filter(Boolean).join(' ') !== GRAPH_SCOPE) {
      return fail(
        400,
        'invalid_scope',
        70011,
        `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    kit.count('tokens:issued');
    return reply.headers({ 'cache-control': 'no-store, no-cache', pragma: 'no-cache' }).send({
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_S,
      ext_expires_in: TOKEN_LIFETIME_S,
      access_token: tokens.issue(registration, kit.clock.now()),
    });
  });
}

/** A tenant by GUID or by one of the default tenant's domain names. */
function tenantAlias(tenant: string, tenants: Set<string>): string | undefined {
  if (tenants.has(tenant)) return tenant;
  if (tenant === DEFAULT_DOMAIN || tenant === 'contoso.onmicrosoft.com') return DEFAULT_TENANT_ID;
  return undefined;
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
  return {
    id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
    secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
  };
}

function aadError(
  reply: FastifyReply,
  now: number,
  status: number,
  error: string,
  code: number,
  text: string,
) {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date(now)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
  return reply.status(status).send({
    error,
    error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}
