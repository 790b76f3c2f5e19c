import { z } from 'zod';

/**
 * The shape of a connection, shared by the config file (`connections:`), the admin API and the CLI. It
 * lives in `core` because the config loader validates it; the vault gives it meaning. Error messages
 * never echo a value (a secret may be the value).
 */

export const AUTH_SCHEMES = [
  'bearer',
  'api-key',
  'basic',
  'oauth2-client-credentials',
  'oauth2-authorization-code',
] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

export const CONNECTION_ID = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;

const secret = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(8192, `${what} is too long`);

const httpUrl = z.string({ error: 'must be a URL' }).refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL');

const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, 'must be an HTTP header name (letters, digits, "-")');

/** A header name or a query parameter name (the stricter set both accept). */
const keyName = z.string().regex(/^[A-Za-z0-9_.~-]{1,100}$/, 'must be 1–100 letters, digits or "_.~-"');

const stringMap = z.record(z.string().max(200), z.string().max(2000));

const clientAuth = z.enum(['client_secret_basic', 'client_secret_post', 'none'], {
  error: 'must be one of "client_secret_basic", "client_secret_post", "none"',
});

const scopes = z
  .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope token (no spaces)'))
  .max(100);

export const bearerAuthSchema = z.strictObject({
  scheme: z.literal('bearer'),
  /** The token (a HubSpot private-app token, a personal access token…). */
  token: secret('token'),
  /** Header carrying it. Defaults to `authorization`. */
  header: headerName.optional(),
  /** Text before the token in the header. Defaults to `Bearer ` for `authorization`, none otherwise. */
  prefix: z.string().max(50).optional(),
});

export const apiKeyAuthSchema = z.strictObject({
  scheme: z.literal('api-key'),
  key: secret('key'),
  /** Where the key goes. Defaults to `header`. */
  in: z.enum(['header', 'query'], { error: 'must be "header" or "query"' }).optional(),
  /** Header or parameter name. Defaults to `x-api-key` (header) or `api_key` (query). */
  name: keyName.optional(),
  /** Text before the key (header only), e.g. `Token `. Defaults to none. */
  prefix: z.string().max(50).optional(),
});

export const basicAuthSchema = z.strictObject({
  scheme: z.literal('basic'),
  username: z
    .string()
    .max(1000)
    .refine((u) => !u.includes(':'), 'must not contain ":"'),
  password: secret('password'),
});

/** Where the authorization server is: OpenID discovery from `issuer`, or explicit endpoints. */
const endpoints = {
  /** OAuth / OpenID issuer; endpoints are discovered from its metadata when not given. */
  issuer: httpUrl.optional(),
  tokenUrl: httpUrl.optional(),
  clientId: z.string().min(1, 'must not be empty').max(1000),
  scopes: scopes.optional(),
  /** How the client authenticates at the token endpoint. Defaults to `client_secret_basic`. */
  clientAuth: clientAuth.optional(),
  /** Extra token request parameters (`audience`, `resource`…). */
  tokenParams: stringMap.optional(),
};

export const clientCredentialsAuthSchema = z
  .strictObject({
    scheme: z.literal('oauth2-client-credentials'),
    ...endpoints,
    clientSecret: secret('clientSecret').optional(),
  })
  .superRefine((auth, ctx) => {
    if (!auth.issuer && !auth.tokenUrl)
      ctx.addIssue({ code: 'custom', path: ['tokenUrl'], message: 'set tokenUrl or issuer' });
    if ((auth.clientAuth ?? 'client_secret_basic') !== 'none' && !auth.clientSecret)
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecret'],
        message: 'is required unless clientAuth is "none"',
      });
  });

export const authorizationCodeAuthSchema = z
  .strictObject({
    scheme: z.literal('oauth2-authorization-code'),
    ...endpoints,
    authorizationUrl: httpUrl.optional(),
    clientSecret: secret('clientSecret').optional(),
    /** Extra authorization request parameters (`prompt`, `access_type`…). */
    authorizationParams: stringMap.optional(),
    /** The callback URL registered with the provider. Defaults to the server's `/oauth/callback`. */
    redirectUrl: httpUrl.optional(),
    /** Tokens obtained elsewhere, to import a connection without a browser round trip. */
    refreshToken: secret('refreshToken').optional(),
    accessToken: secret('accessToken').optional(),
  })
  .superRefine((auth, ctx) => {
    if (!auth.issuer && !(auth.tokenUrl && auth.authorizationUrl))
      ctx.addIssue({
        code: 'custom',
        path: ['tokenUrl'],
        message: 'set tokenUrl and authorizationUrl, or issuer',
      });
    if ((auth.clientAuth ?? 'client_secret_basic') !== 'none' && !auth.clientSecret)
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecret'],
        message: 'is required unless clientAuth is "none"',
      });
  });

export const authSchema = z.discriminatedUnion(
  'scheme',
  [
    bearerAuthSchema,
    apiKeyAuthSchema,
    basicAuthSchema,
    clientCredentialsAuthSchema,
    authorizationCodeAuthSchema,
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `must be one of ${AUTH_SCHEMES.map((s) => `"${s}"`).join(', ')}`
        : undefined,
  },
);

export type AuthInput = z.output<typeof authSchema>;
export type BearerAuth = z.output<typeof bearerAuthSchema>;
export type ApiKeyAuth = z.output<typeof apiKeyAuthSchema>;
export type BasicAuth = z.output<typeof basicAuthSchema>;
export type ClientCredentialsAuth = z.output<typeof clientCredentialsAuthSchema>;
export type AuthorizationCodeAuth = z.output<typeof authorizationCodeAuthSchema>;

/** The fields of each scheme that are secret: encrypted at rest, masked in every view. */
export const SECRET_FIELDS: Record<AuthScheme, readonly string[]> = {
  bearer: ['token'],
  'api-key': ['key'],
  basic: ['password'],
  'oauth2-client-credentials': ['clientSecret'],
  'oauth2-authorization-code': ['clientSecret', 'refreshToken', 'accessToken'],
};

export const connectionSchema = z.strictObject({
  id: z
    .string()
    .regex(CONNECTION_ID, 'must be 1–64 letters, digits, "-" or "_", starting with a letter or digit'),
  /** `custom`, or a provider's name for provider-specific behaviour. Defaults to `custom`. */
  provider: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lower-case letters, digits, "-" or "_"')
    .default('custom'),
  baseUrl: httpUrl.optional(),
  auth: authSchema,
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export type ConnectionInput = z.input<typeof connectionSchema>;
export type ConnectionDefinition = z.output<typeof connectionSchema>;
