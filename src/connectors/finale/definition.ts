import { z } from 'zod';
import { parseJsonBody, type UpstreamErrorReader } from '../../http/upstream-error.js';
import type { ProviderDefinition, ProviderRateLimit } from '../provider.js';

export const FINALE_HOST = 'https://app.finaleinventory.com';

/** A connection's `metadata` for `provider: finale`. */
export const finaleSettingsSchema = z.strictObject({
  /** The account's name: the first path segment of its URLs (`app.finaleinventory.com/<account>/…`). */
  account: z
    .string({ error: 'must be the account name from its Finale URL, such as "acme"' })
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be the account name from its Finale URL, such as "acme"'),
  /** GETs and POSTs a minute, each. Integrators cite 120 of each; Finale publishes no figure. */
  perMinute: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .positive('must be at least 1')
    .default(120),
});

export type FinaleSettings = z.output<typeof finaleSettingsSchema>;

/** 120 GETs and 120 POSTs a minute per account, by the `X-RateLimit-*` headers of each answer. */
export function finaleRateLimits(settings: FinaleSettings): ProviderRateLimit[] {
  return [
    { key: 'get', limit: settings.perMinute, windowMs: 60_000, only: { method: 'GET' } },
    { key: 'post', limit: settings.perMinute, windowMs: 60_000, only: { method: 'POST' } },
  ];
}

const errorBody = z.object({ errorMessage: z.string() }).loose();

/** Finale's errors are `{ "errorMessage": "…" }`; a 409 is an id already taken, final. */
export const finaleErrorReader: UpstreamErrorReader = ({ body }) => {
  const parsed = errorBody.safeParse(parseJsonBody(body));
  return parsed.success ? { message: parsed.data.errorMessage } : undefined;
};

/**
 * Finale Inventory's REST API: HTTP Basic with an API key and secret, under the account's own path,
 * column-major lists, ids as URL paths, POST for create and update, action URLs for state changes.
 * https://support.finaleinventory.com/hc/en-us/articles/115007830648-Getting-Started-with-the-API
 */
export const finaleDefinition: ProviderDefinition<FinaleSettings> = {
  id: 'finale',
  name: 'Finale Inventory',
  docsUrl: 'https://support.finaleinventory.com/hc/en-us/articles/115007830648-Getting-Started-with-the-API',
  guide: 'docs/connectors/finale.md',
  settings: finaleSettingsSchema,
  auth: [
    {
      scheme: 'basic',
      describe:
        'an API key and secret (Account settings → Integrations → API keys) as username and password; they have the whole account’s access',
    },
  ],
  baseUrl: (settings) => `${FINALE_HOST}/${settings.account}/api`,
  rateLimits: (settings) => finaleRateLimits(settings),
  readError: () => finaleErrorReader,
  check: () => ({ path: '/facility', query: { limit: '1' } }),
};
