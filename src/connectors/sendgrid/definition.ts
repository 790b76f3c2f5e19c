import { z } from 'zod';
import type { ProviderDefinition, ProviderRateLimit } from '../provider.js';
import { sendgridErrorReader } from './errors.js';

export const SENDGRID_API = {
  global: 'https://api.sendgrid.com',
  eu: 'https://api.eu.sendgrid.com',
} as const;

/** A connection's `metadata` for `provider: sendgrid`. */
export const sendgridSettingsSchema = z.strictObject({
  /** Where the account's data lives: `global` (api.sendgrid.com) or `eu` (api.eu.sendgrid.com). */
  region: z.enum(['global', 'eu'], { error: 'must be "global" or "eu"' }).default('global'),
  /** Mail sends per second, when the account's limit is not the cited 10,000. */
  mailSendPerSecond: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .positive()
    .optional(),
  /**
   * Whether the account has the Email Activity add-on: the look-up that makes a re-send safe after
   * a crash needs it. Without it, a send of unknown outcome is reported, never repeated. Defaults to true.
   */
  emailActivity: z.boolean({ error: 'must be true or false' }).default(true),
});

export type SendGridSettings = z.output<typeof sendgridSettingsSchema>;

const MAIL_SEND = /^\/v3\/mail\/send$/;
const ACTIVITY = /^\/v3\/messages(\/|$)/;
const OTHER = /^\/v3\/(?!mail\/send$|messages(\/|$))/;

/**
 * SendGrid publishes "a fixed number of requests per refresh period" per endpoint without the table:
 * mail send is cited at 10,000 a second, the Email Activity API is documented at 6 a minute, 600 a
 * minute is the documented default elsewhere. The `X-RateLimit-*` headers of each answer adjust them.
 * https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits
 */
export function sendgridRateLimits(settings: SendGridSettings): ProviderRateLimit[] {
  return [
    {
      key: 'mail-send',
      limit: settings.mailSendPerSecond ?? 10_000,
      windowMs: 1000,
      only: { method: 'POST', path: MAIL_SEND },
    },
    { key: 'email-activity', limit: 6, windowMs: 60_000, only: { path: ACTIVITY } },
    { key: 'api', limit: 600, windowMs: 60_000, only: { path: OTHER } },
  ];
}

/**
 * SendGrid v3 (mail send, templates, Email Activity): an API key as bearer token, the global or EU
 * host, per-endpoint limits, `{"errors":[{message, field, help}]}` bodies, the signed Event Webhook.
 * https://www.twilio.com/docs/sendgrid/api-reference
 */
export const sendgridDefinition: ProviderDefinition<SendGridSettings> = {
  id: 'sendgrid',
  name: 'SendGrid',
  docsUrl: 'https://www.twilio.com/docs/sendgrid/api-reference',
  guide: 'docs/connectors/sendgrid.md',
  settings: sendgridSettingsSchema,
  auth: [
    {
      scheme: 'bearer',
      describe:
        'an API key (Settings → API Keys, "SG.…") with Mail Send, and Template Engine and Email Activity read for those calls',
    },
  ],
  baseUrl: (settings) => SENDGRID_API[settings.region],
  rateLimits: (settings) => sendgridRateLimits(settings),
  readError: () => sendgridErrorReader,
  webhook: { scheme: 'sendgrid' },
  check: () => ({
    path: '/v3/templates',
    query: { generations: 'dynamic', page_size: '1' },
    headers: { accept: 'application/json' },
  }),
};
