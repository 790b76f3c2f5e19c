import { z } from 'zod';
import { checkTimeZone } from '../../resilience/calendar-day.js';
import type { ProviderDefinition } from '../provider.js';
import { hubspotErrorReader } from './errors.js';
import { hubspotRateLimits, TIERS } from './limits.js';

export const HUBSPOT_API = 'https://api.hubapi.com';

/** A connection's `metadata` for `provider: hubspot`. */
export const hubspotSettingsSchema = z.strictObject({
  /** The account's subscription, which sets the 10 s and daily limits. Defaults to `starter` (the lowest). */
  tier: z
    .enum(TIERS, { error: `must be one of ${TIERS.map((t) => `"${t}"`).join(', ')}` })
    .default('starter'),
  /** The account's time zone (Settings → Account defaults): its midnight resets the daily count. Defaults to UTC. */
  timeZone: z
    .string({ error: 'must be an IANA time zone name' })
    .refine((zone) => {
      try {
        checkTimeZone('timeZone', zone);
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone name such as "UTC" or "America/New_York"')
    .default('UTC'),
  /** Requests per day when it differs from the tier's (more limit-increase packs). */
  dailyLimit: z.number({ error: 'must be a number' }).int('must be a whole number').positive().optional(),
  /**
   * Added to the 10 s window on our side, in ms, to absorb the spread between a slot being taken and
   * the request reaching HubSpot. Defaults to 250 (2.5 % of the throughput); raise it on slow links.
   */
  safetyMarginMs: z
    .number({ error: 'must be a number of ms' })
    .int('must be a whole number')
    .min(0)
    .max(5000, 'must be at most 5000')
    .optional(),
  /** The account (portal) id: connections naming the same one share its daily count. */
  portalId: z
    .union([z.string().regex(/^\d{1,20}$/, 'must be digits'), z.number().int().positive()], {
      error: 'must be the account id (digits)',
    })
    .transform(String)
    .optional(),
});

export type HubSpotSettings = z.output<typeof hubspotSettingsSchema>;

/**
 * HubSpot CRM: private-app bearer tokens or OAuth, `https://api.hubapi.com`, the tier's limits,
 * `{ status, message, correlationId, category }` errors, `paging.next.after` cursors, v3-signed
 * webhooks. https://developers.hubspot.com/docs/api/overview
 */
export const hubspotDefinition: ProviderDefinition<HubSpotSettings> = {
  id: 'hubspot',
  name: 'HubSpot',
  docsUrl: 'https://developers.hubspot.com/docs/api/overview',
  guide: 'docs/connectors/hubspot.md',
  settings: hubspotSettingsSchema,
  auth: [
    {
      scheme: 'bearer',
      describe:
        'a private app access token (Settings → Integrations → Private apps) with the CRM scopes the calls need',
    },
    {
      scheme: 'oauth2-authorization-code',
      describe: 'a public app (developer account → Apps) with its client id, client secret and redirect URL',
      // https://developers.hubspot.com/docs/api/oauth-quickstart-guide: the client authenticates in the body.
      defaults: () => ({
        authorizationUrl: 'https://app.hubspot.com/oauth/authorize',
        tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
        clientAuth: 'client_secret_post',
      }),
    },
  ],
  baseUrl: () => HUBSPOT_API,
  rateLimits: (settings, { scheme }) => hubspotRateLimits(settings, scheme),
  readError: (settings) => hubspotErrorReader(settings),
  pagination: { kind: 'cursor', next: 'paging.next.after', param: 'after', items: 'results' },
  webhook: { scheme: 'hubspot-v3' },
  check: () => ({ path: '/crm/v3/objects/contacts', query: { limit: '1' } }),
};
