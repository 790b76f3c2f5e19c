import type { PeriodLimit } from '../../fake-kit/index.js';

/** The endpoint groups the fake limits separately, each with its own refresh period. */
export type LimitGroup = 'mail.send' | 'messages' | 'templates' | 'webhooks';

/**
 * SendGrid gives every endpoint "a fixed number of requests per refresh period" and does not publish
 * the table: mail send is cited at 10,000 a second, the Email Activity API is documented at 6 a
 * minute, and 600 a minute is the documented default elsewhere.
 * https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits
 */
export const DEFAULT_LIMITS: Readonly<Record<LimitGroup, PeriodLimit>> = {
  'mail.send': { limit: 10_000, periodMs: 1_000 },
  messages: { limit: 6, periodMs: 60_000 },
  templates: { limit: 600, periodMs: 60_000 },
  webhooks: { limit: 600, periodMs: 60_000 },
};
