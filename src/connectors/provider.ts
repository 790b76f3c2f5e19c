import type { z } from 'zod';
import type { AuthScheme } from '../core/config/connections.js';
import type { RateLimitSpec } from '../http/client-options.js';
import type { ClassifierOverrides } from '../resilience/classification.js';
import type { WebhookSchemeName } from '../webhooks/verify/types.js';

/**
 * What a connection gets by naming `provider: <id>`, with nothing else to configure: where the API is,
 * how it authenticates, its published rate limits, how its errors read, how it pages, and how its
 * webhooks are signed. A provider that needs nothing more is this one declarative object; connectors
 * with calls and sync models add them beside it (see `Connector`).
 *
 * The settings are the connection's `metadata` as the provider understands it (HubSpot's `tier`,
 * Graph's `tenantId`, Finale's `account`), validated by `settings` with messages naming the field.
 */
export interface ProviderDefinition<Settings = Record<string, unknown>> {
  /** The `provider:` value of a connection, lower case: `hubspot`, `msgraph`, `github`. */
  readonly id: string;
  /** How people write it: `HubSpot`, `Microsoft Graph`. */
  readonly name: string;
  /** The provider's own API reference. */
  readonly docsUrl: string;
  /** Patchbay's page for it, under `docs/connectors/`. */
  readonly guide: string;
  /** Validates and defaults a connection's provider settings. */
  readonly settings: z.ZodType<Settings>;
  /** Auth schemes a connection to this provider may use; the first is the one documented first. */
  readonly auth: readonly ProviderAuth<Settings>[];
  /** The API's base URL; a connection's own `baseUrl` (a fake, a proxy, an EU region) wins. */
  baseUrl(settings: Settings): string;
  /**
   * The published limits, as the HTTP client's rate-limit specs. Each is shared by every process under
   * the connection's id, so several Patchbay processes together stay under the provider's limit.
   */
  rateLimits(settings: Settings): readonly RateLimitSpec[];
  /** Classification beyond the shared table (HubSpot's daily 429 waits for the reset, not a retry). */
  readonly classify?: ClassifierOverrides;
  /** Reads the provider's error body into a code and a message for the errors Patchbay raises. */
  errorOf?(body: unknown): { code?: string; message?: string } | undefined;
  /** How list endpoints page, for `paginate` and declarative syncs. */
  readonly pagination: PaginationStyle;
  /** The verification preset of a webhook source declared with `provider: <id>`. */
  readonly webhook?: { scheme: WebhookSchemeName };
}

export type PaginationStyle =
  | { style: 'link-header' }
  | { style: 'cursor'; cursorPath: string; param: string }
  | { style: 'next-url'; nextPath: string }
  | { style: 'offset'; param: string; sizeParam: string }
  | { style: 'none' };

/** One auth scheme a provider accepts, and what it fills in from the settings (token URLs, scopes). */
export interface ProviderAuth<Settings> {
  readonly scheme: AuthScheme;
  /** What to tell the user to create at the provider (a private app, an app registration). */
  readonly describe: string;
  /** Fields of the scheme the provider fixes (`tokenUrl` from the tenant, default `scopes`). */
  defaults?(settings: Settings): Record<string, unknown>;
}
