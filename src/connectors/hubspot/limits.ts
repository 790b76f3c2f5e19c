import type { AuthScheme } from '../../core/config/connections.js';
import type { ProviderRateLimit } from '../provider.js';

/**
 * HubSpot's published limits (https://developers.hubspot.com/docs/api/usage-details): private apps
 * get a rolling 10 s count per app by subscription tier, plus a daily count per account that resets
 * at midnight in the account's time zone; public (OAuth) apps get 110 per 10 s per installed account.
 */
export const TIERS = ['starter', 'professional', 'enterprise', 'limit-increase'] as const;
export type HubSpotTier = (typeof TIERS)[number];

export const TIER_LIMITS: Readonly<Record<HubSpotTier, { perTenSeconds: number; perDay: number }>> = {
  starter: { perTenSeconds: 100, perDay: 250_000 },
  // The usage page says 625,000 and a changelog 650,000: the lower one is never exceeded.
  professional: { perTenSeconds: 190, perDay: 625_000 },
  enterprise: { perTenSeconds: 190, perDay: 1_000_000 },
  // The pack is sold on Professional and Enterprise and adds 1M a day: Professional's day plus one pack
  // is the least any buyer has. Set `dailyLimit` for more packs or an Enterprise base.
  'limit-increase': { perTenSeconds: 250, perDay: 1_625_000 },
};

export const OAUTH_PER_TEN_SECONDS = 110;
/** The CRM search endpoints: 5 per second per account, counted apart, without rate-limit headers. */
export const SEARCH_PER_SECOND = 5;
/** With the increase pack the associations API keeps 200 per 10 s. */
export const ASSOCIATIONS_PER_TEN_SECONDS = 200;

/**
 * HubSpot counts arrivals, we count grants: a request held up on its way (a busy event loop, a slow
 * connection) arrives later than one granted after it. 250 ms of margin on the 10 s window covers that
 * jitter on a loaded machine and on the internet, for 2.5 % of the throughput (decision 0080).
 */
export const TEN_SECONDLY_MARGIN_MS = 250;

const SEARCH = /^\/crm\/v3\/objects\/[^/]+\/search$/;
const ASSOCIATIONS = /^\/crm\/v[34]\/(associations\/|objects\/[^/]+\/[^/]+\/associations\/)/;

export interface LimitSettings {
  tier: HubSpotTier;
  timeZone: string;
  dailyLimit?: number | undefined;
  portalId?: string | undefined;
  safetyMarginMs?: number | undefined;
}

/**
 * The limits of one connection, in the order a call takes them: the coarse daily count first, the
 * rolling windows last, so the slot whose timing matters is stamped just before the request leaves
 * (a slot taken, then a daily-count transaction, then the send, would carry that transaction's time as
 * arrival jitter). Search takes a slot in the 10 s window as well as in its own: whether HubSpot counts
 * it there is not documented, and counting it costs little.
 */
export function hubspotRateLimits(settings: LimitSettings, scheme: AuthScheme): ProviderRateLimit[] {
  const tier = TIER_LIMITS[settings.tier];
  const oauth = scheme === 'oauth2-authorization-code' || scheme === 'oauth2-client-credentials';
  const account = settings.portalId === undefined ? {} : { scope: `portal:${settings.portalId}` };
  return [
    {
      key: 'daily',
      kind: 'fixed-window',
      window: 'day',
      timeZone: settings.timeZone,
      limit: settings.dailyLimit ?? tier.perDay,
      // A quarter million a day: taking them a thousandth at a time spares most calls a store round
      // trip, and leaves at most that many per process unused at midnight.
      reserve: Math.max(1, Math.floor((settings.dailyLimit ?? tier.perDay) / 1000)),
      ...account,
    },
    ...(settings.tier === 'limit-increase' && !oauth
      ? [
          {
            key: 'associations',
            limit: ASSOCIATIONS_PER_TEN_SECONDS,
            windowMs: 10_000,
            safetyMarginMs: TEN_SECONDLY_MARGIN_MS,
            only: { path: ASSOCIATIONS },
          },
        ]
      : []),
    {
      key: 'ten-secondly',
      limit: oauth ? OAUTH_PER_TEN_SECONDS : tier.perTenSeconds,
      windowMs: 10_000,
      safetyMarginMs: settings.safetyMarginMs ?? TEN_SECONDLY_MARGIN_MS,
    },
    {
      key: 'search',
      limit: SEARCH_PER_SECOND,
      windowMs: 1000,
      // A second is short: the same arrival jitter is a larger share of it.
      safetyMarginMs: 100,
      only: { method: 'POST', path: SEARCH },
      ...account,
    },
  ];
}
