import { z } from 'zod';
import type { ProviderDefinition } from '../provider.js';
import { graphErrorReader } from './errors.js';
import { msgraphRateLimits } from './limits.js';

export const GRAPH_API = 'https://graph.microsoft.com';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/** G10: Outlook message subscriptions last at most 4,230 minutes; newer pages quote 10,080 [U]. */
export const DEFAULT_SUBSCRIPTION_MINUTES = 4230;

/** A connection's `metadata` for `provider: msgraph`. */
export const msgraphSettingsSchema = z.strictObject({
  /** The directory (tenant) id of the app registration, or one of its domains (`contoso.onmicrosoft.com`). */
  tenantId: z
    .string({ error: 'must be the directory (tenant) id: a GUID, or a domain of the tenant' })
    .regex(
      /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9.-]+\.[a-z]{2,})$/i,
      'must be the directory (tenant) id: a GUID, or a domain of the tenant',
    ),
  /** Longest lifetime asked for a subscription, in minutes. Defaults to 4,230 (Graph's maximum for messages). */
  maxSubscriptionMinutes: z
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(45, 'must be at least 45 minutes')
    .max(10_080, 'must be at most 10,080 minutes (7 days)')
    .default(DEFAULT_SUBSCRIPTION_MINUTES),
  /** Bodies as Outlook stores them (`html`) or converted to `text`. Defaults to `html`. */
  bodyContentType: z.enum(['html', 'text'], { error: 'must be "html" or "text"' }).default('html'),
  /** Largest attachment downloaded, in bytes. Defaults to 32 MiB. */
  maxAttachmentBytes: z
    .number({ error: 'must be a number of bytes' })
    .int('must be a whole number of bytes')
    .positive()
    .max(150 * 1024 * 1024, 'must be at most 150 MiB (Graph’s largest attachment)')
    .default(32 * 1024 * 1024),
});

export type MsGraphSettings = z.output<typeof msgraphSettingsSchema>;

/** Entra ID's token endpoint of a tenant (v2-oauth2-client-creds-grant-flow.md). */
export function tokenUrlOf(tenantId: string): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

/**
 * Microsoft Graph mail: app-only access by client credentials against the tenant's token endpoint,
 * `https://graph.microsoft.com`, Outlook's per-mailbox limits, `{ error: { code, message } }` errors,
 * `@odata.nextLink` paging, change notifications verified by `clientState`.
 * https://learn.microsoft.com/graph/api/resources/mail-api-overview
 */
export const msgraphDefinition: ProviderDefinition<MsGraphSettings> = {
  id: 'msgraph',
  name: 'Microsoft Graph',
  docsUrl: 'https://learn.microsoft.com/graph/api/resources/mail-api-overview',
  guide: 'docs/connectors/msgraph.md',
  settings: msgraphSettingsSchema,
  auth: [
    {
      scheme: 'oauth2-client-credentials',
      describe:
        'an app registration (Entra ID → App registrations) with a client secret and the application permissions Mail.ReadWrite and Mail.Send, granted admin consent',
      defaults: (settings) => ({
        tokenUrl: tokenUrlOf(settings.tenantId),
        scopes: [GRAPH_SCOPE],
        clientAuth: 'client_secret_post',
      }),
    },
  ],
  baseUrl: () => GRAPH_API,
  rateLimits: () => msgraphRateLimits(),
  readError: () => graphErrorReader,
  pagination: { kind: 'odata' },
  webhook: { scheme: 'msgraph' },
  // An app-only token has no /me; listing one user needs User.Read.All, which mail apps hold.
  check: () => ({ path: '/v1.0/users', query: { $top: '1', $select: 'id' } }),
};
