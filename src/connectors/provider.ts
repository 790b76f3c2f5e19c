import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { AuthScheme } from '../core/config/connections.js';
import type { CallMatch, RateLimitSpec } from '../http/client-options.js';
import type { HttpClient } from '../http/create-http-client.js';
import type { PageStrategy } from '../http/paginate.js';
import type { UpstreamErrorReader } from '../http/upstream-error.js';
import type { ClassifierOverrides } from '../resilience/classification.js';
import type { RateLimitStore } from '../resilience/rate-limit-store.js';
import type { AnySyncModel } from '../sync/sync-model.js';
import type { WebhookSchemeName } from '../webhooks/verify/types.js';
import type { SendLedger } from './send-ledger.js';

/**
 * What a connection gets by naming `provider: <id>`, with nothing else to configure: where the API is,
 * how it authenticates, its published rate limits, how its errors read, how it pages, and how its
 * webhooks are signed. It is declarative data plus a few pure functions of the settings; a provider
 * with typed calls or sync models adds them beside it in a `Connector`.
 *
 * The settings are the connection's `metadata` as the provider understands it (HubSpot's `tier`,
 * Graph's `tenantId`), validated by `settings` with messages naming the field. See
 * `docs/connectors/README.md`.
 */
export interface ProviderDefinition<Settings = unknown> {
  /** The `provider:` value of a connection, lower case: `hubspot`, `msgraph`, `github`. */
  readonly id: string;
  /** How people write it: `HubSpot`, `Microsoft Graph`. */
  readonly name: string;
  /** The provider's own API reference. */
  readonly docsUrl: string;
  /** Patchbay's page for it, under `docs/connectors/`. */
  readonly guide: string;
  /** Validates and defaults a connection's `metadata` (absent metadata is `{}`). */
  readonly settings: z.ZodType<Settings>;
  /** Auth schemes a connection to this provider may use; the first is the one documented first. */
  readonly auth: readonly ProviderAuth<Settings>[];
  /** The API's base URL; a connection's own `baseUrl` (a fake, a proxy, an EU region) wins. */
  baseUrl(settings: Settings): string;
  /** Headers every call carries (GitHub's `User-Agent` and API version, Stripe's `Stripe-Version`). */
  headers?(settings: Settings): Readonly<Record<string, string>>;
  /**
   * The published limits. Each is shared by every process through the engine's limit store, under a
   * key made of the provider, the quota's owner (`scope`, by default the connection) and `key`: several
   * Patchbay processes together stay under the provider's limit.
   */
  rateLimits(settings: Settings, context: { scheme: AuthScheme }): readonly ProviderRateLimit[];
  /** Classification beyond the shared table, by status or response. */
  readonly classify?: ClassifierOverrides;
  /** Reads the provider's error bodies: their message and code, and the wait or finality they imply. */
  readError?(settings: Settings): UpstreamErrorReader;
  /** How list endpoints page, for `paginate` and declarative syncs. */
  readonly pagination?: PageStrategy;
  /**
   * The scheme that verifies the provider's webhooks (`hubspot-v3`): what a source receiving them names
   * as `verify.scheme`, and what its docs page describes.
   */
  readonly webhook?: ProviderWebhook;
  /**
   * Time limits when the provider's calls need others than the client's defaults (OpenAI: a long
   * completion takes minutes). They win over the factory's `http` options.
   */
  readonly timeouts?: ProviderTimeouts;
  /**
   * The cheapest authenticated read, to test a connection (`ConnectorClients.check`): a 2xx proves the
   * credentials and the base URL.
   */
  check?(settings: Settings): ProviderCheck;
}

/** A read that needs the connection's credentials and changes nothing. */
export interface ProviderCheck {
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ProviderTimeouts {
  /** Longest one attempt may take, in ms. */
  readonly timeoutMs?: number;
  /** Longest a whole call may take — waits, attempts and backoff — in ms. */
  readonly deadlineMs?: number;
}

/**
 * One published limit, as the HTTP client's declarative rate-limit spec without what the engine fills
 * in (the shared store, the clock, the registry and the full key).
 */
export type ProviderRateLimit = DeclarativeLimit & {
  /** The limit's name within the provider (`ten-secondly`, `daily`, `search`): the end of its store key. */
  readonly key: string;
  /**
   * Whose quota it is: the connection (default), or something several connections share, such as a
   * HubSpot account's daily count (`portal:123`).
   */
  readonly scope?: string;
  /** The calls it counts; every call when absent. */
  readonly only?: CallMatch;
};

type DeclarativeLimit =
  Exclude<RateLimitSpec, { acquire: unknown }> extends infer S
    ? S extends unknown
      ? Omit<S, 'name' | 'store' | 'fallbackStore' | 'clock' | 'registry' | 'onStoreError' | 'only'>
      : never
    : never;

/** One auth scheme a provider accepts, and what it fills in from the settings (token URLs, scopes). */
export interface ProviderAuth<Settings> {
  readonly scheme: AuthScheme;
  /** What to tell the user to create at the provider (a private app, an app registration). */
  readonly describe: string;
  /** Fields of the scheme the provider fixes (`tokenUrl`, default `scopes`), documented on its page. */
  defaults?(settings: Settings): Record<string, unknown>;
}

export interface ProviderWebhook {
  /** The verification scheme (`src/webhooks/verify/`). */
  readonly scheme: WebhookSchemeName;
}

/** What a connector's calls are built with. */
export interface ConnectorContext<Settings> {
  readonly connectionId: string;
  readonly settings: Settings;
  readonly clock: Clock;
  /**
   * The engine's shared limit store, for limits a declarative spec cannot count — a cost per call
   * rather than one slot (OpenAI's tokens). Keys start with `<provider>:connection:<id>:`.
   */
  readonly rateLimits: RateLimitStore;
  /** Where sends made idempotent from Patchbay's side are claimed (Graph `sendMail`); absent without a store. */
  readonly sendLedger?: SendLedger;
  /** Overrides the timing of idempotent sends (tests). */
  readonly sends?: { inFlightMs?: number; settleMs?: number };
}

/**
 * A provider as Patchbay ships it: its definition, and — when it has typed calls — the API object built
 * over an HTTP client that the definition configured (base URL, auth, limits, errors).
 */
export interface Connector<Settings = unknown, Api = unknown> {
  readonly definition: ProviderDefinition<Settings>;
  api?(client: HttpClient, context: ConnectorContext<Settings>): Api;
  /** Its sync models (`hubspot.contacts`), named by config entries `syncs: [{ model }]`. */
  readonly models?: readonly AnySyncModel[];
}
