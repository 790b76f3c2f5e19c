import { z } from 'zod';
import type { ProviderDefinition, ProviderRateLimit } from '../provider.js';
import { stripeErrorReader } from './errors.js';

export const STRIPE_API = 'https://api.stripe.com';
/** The API version Patchbay's calls are written against (stripe-node 20's); a connection may pin another. */
export const STRIPE_API_VERSION = '2026-02-25.clover';

/** A connection's `metadata` for `provider: stripe`. */
export const stripeSettingsSchema = z.strictObject({
  /**
   * `live` or `test` (a sandbox): Stripe allows 100 requests a second in live mode and 25 in a sandbox,
   * reads and writes counted apart. Defaults to `test`, the lower one, so a key of either kind stays under.
   */
  mode: z.enum(['live', 'test'], { error: 'must be "live" or "test"' }).default('test'),
  /** Requests a second when the account's limits were raised (reads and writes each). */
  requestsPerSecond: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .positive('must be at least 1')
    .optional(),
  /** The `Stripe-Version` sent with every call. Defaults to the version Patchbay is written against. */
  apiVersion: z
    .string({ error: 'must be a string such as "2026-02-25.clover"' })
    .regex(/^\d{4}-\d{2}-\d{2}(\.\w+)?$/, 'must look like "2026-02-25.clover"')
    .default(STRIPE_API_VERSION),
  /** A connected account (`acct_…`) every call acts for, sent as `Stripe-Account` (Stripe Connect). */
  account: z
    .string({ error: 'must be a string' })
    .regex(/^acct_\w+$/, 'must be a connected account id such as "acct_1Nv…"')
    .optional(),
});

export type StripeSettings = z.output<typeof stripeSettingsSchema>;

/**
 * Stripe's request limits (https://docs.stripe.com/rate-limits): per account and second, 100 in live
 * mode and 25 in a sandbox, reads and writes apart. Stripe sends no rate-limit headers, so the limiter
 * counts on its own; a 429 still waits and retries.
 */
export function stripeRateLimits(settings: StripeSettings): ProviderRateLimit[] {
  const limit = settings.requestsPerSecond ?? (settings.mode === 'live' ? 100 : 25);
  return [
    { key: 'reads', limit, windowMs: 1000, only: { method: 'GET' } },
    { key: 'writes', limit, windowMs: 1000, only: { method: ['POST', 'DELETE'] } },
  ];
}

/**
 * Stripe v1: a secret or restricted key as bearer token, form-encoded bodies, `Idempotency-Key` on
 * every write, `starting_after` lists, `{ error: { type, code } }` bodies, webhooks signed with
 * `Stripe-Signature`. https://docs.stripe.com/api
 */
export const stripeDefinition: ProviderDefinition<StripeSettings> = {
  id: 'stripe',
  name: 'Stripe',
  docsUrl: 'https://docs.stripe.com/api',
  guide: 'docs/connectors/stripe.md',
  settings: stripeSettingsSchema,
  auth: [
    {
      scheme: 'bearer',
      describe:
        'a secret key (sk_live_… / sk_test_…) or a restricted key (rk_…) with write access to PaymentIntents, Customers and Refunds (Developers → API keys)',
    },
  ],
  baseUrl: () => STRIPE_API,
  headers: (settings) => ({
    'stripe-version': settings.apiVersion,
    ...(settings.account !== undefined && { 'stripe-account': settings.account }),
  }),
  rateLimits: (settings) => stripeRateLimits(settings),
  readError: () => stripeErrorReader,
  pagination: { kind: 'starting-after', items: 'data' },
  webhook: { scheme: 'stripe' },
  check: () => ({ path: '/v1/customers', query: { limit: '1' } }),
  // Stripe's own SDK waits up to 80 s for an answer: a charge can take that long at the card network.
  timeouts: { timeoutMs: 80_000 },
};
