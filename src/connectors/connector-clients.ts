import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import { type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ConnectionAuthResolver } from '../http/auth-provider.js';
import type { AttemptAnswer, HttpClientOptions } from '../http/client-options.js';
import { createHttpClient, type HttpClient } from '../http/create-http-client.js';
import type { BreakerState } from '../resilience/breaker-state.js';
import { initialSnapshot } from '../resilience/breaker-state.js';
import type { BreakerStateStore } from '../resilience/breaker-state-store.js';
import type { RateLimitStore } from '../resilience/rate-limit-store.js';
import type { Connection } from '../vault/connection-model.js';
import { isLoopbackUrl } from '../vault/oauth-client.js';
import type { HubSpotApi } from './hubspot/hubspot-api.js';
import type { Connector } from './provider.js';
import {
  builtInConnectorSource,
  type ConnectorRegistry,
  type ConnectorSource,
  connectorSourceOf,
} from './registry.js';
import type { SendLedger } from './send-ledger.js';
import { settingsOf } from './settings.js';

/** What the factory reads connections through (the vault's `ConnectionService`). */
export interface ConnectionReader {
  get(id: string): Promise<Connection | undefined>;
}

export interface ConnectorClientsOptions {
  connections: ConnectionReader;
  /** Credentials per connection (the vault's resolver). */
  auth: ConnectionAuthResolver;
  /** Where every connection's limits are counted, shared by every process (the engine's limit store). */
  rateLimits: RateLimitStore;
  /** Where breakers keep their state across processes. Defaults to each process's own. */
  breakers?: BreakerStateStore;
  /** Defaults to the providers Patchbay ships, each loaded when a connection first names it. */
  connectors?: ConnectorRegistry;
  /** Sends every call (the engine passes its SSRF-guarded dispatcher). Defaults to a pool per client. */
  dispatcher?: Dispatcher;
  /** Options every connection's client gets (timeouts, retries). */
  http?: Pick<HttpClientOptions, 'timeoutMs' | 'deadlineMs' | 'retry' | 'maxConnections'>;
  clock?: Clock;
  registry?: Registry;
  logger?: Logger;
  /** Where sends made idempotent from Patchbay's side are claimed (the store's `SendLedgerStore`). */
  sendLedger?: SendLedger;
  /** Timing of idempotent sends, for tests: how long an attempt may be in flight, how long a copy takes to show. */
  sends?: { inFlightMs?: number; settleMs?: number };
  /** Told each attempt's answer of every connection's calls. */
  onAttempt?: (connectionId: string, answer: AttemptAnswer) => void;
}

interface Built {
  /** The connection row it was built from: a change of provider, base URL or settings rebuilds it. */
  version: string;
  client: HttpClient;
  connector: Connector | undefined;
  settings: unknown;
}

/**
 * Turns a connection into a ready HTTP client: `provider: hubspot` plus a token gives HubSpot's base
 * URL, its tier's limits counted in the shared store, its error reading and pagination, with nothing
 * else to configure. `custom` (or a provider without a definition) gets a plain client on the
 * connection's own `baseUrl`. Clients are built once per connection and rebuilt when it changes.
 */
/** What `ConnectorClients.check` found: the provider answered this read with a success. */
export interface ConnectionCheck {
  path: string;
  status: number;
  durationMs: number;
}

export class ConnectorClients {
  private readonly options: ConnectorClientsOptions;
  private readonly connectors: ConnectorSource;
  private readonly clock: Clock;
  private readonly built = new Map<string, Built>();

  constructor(options: ConnectorClientsOptions) {
    this.options = options;
    this.connectors = options.connectors ? connectorSourceOf(options.connectors) : builtInConnectorSource;
    this.clock = options.clock ?? systemClock;
  }

  /** The connection's HTTP client. Fails with `NOT_FOUND` for an unknown id, `CONFIG_INVALID` for bad settings. */
  async client(connectionId: string): Promise<HttpClient> {
    return (await this.build(connectionId)).client;
  }

  /** The typed calls of the connection's provider; fails when the connection is for another provider. */
  async api<Settings, Api>(connectionId: string, connector: Connector<Settings, Api>): Promise<Api> {
    if (!connector.api) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `${connector.definition.name} has no typed calls; use client()`,
      );
    }
    const built = await this.build(connectionId);
    if (built.connector?.definition.id !== connector.definition.id) {
      const connection = (await this.options.connections.get(connectionId))!;
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `connection "${connectionId}" is for provider "${connection.provider}", not "${connector.definition.id}"`,
      );
    }
    const { sendLedger, sends } = this.options;
    return connector.api(built.client, {
      connectionId,
      settings: built.settings as Settings,
      clock: this.clock,
      rateLimits: this.options.rateLimits,
      ...(sendLedger && { sendLedger }),
      ...(sends && { sends }),
    });
  }

  /**
   * Tests the connection with its provider's cheapest authenticated read (`ProviderDefinition.check`):
   * the status and how long it took, or the call's error (an `auth` classification for a refused
   * credential). A connection without a provider, or whose provider names none, has nothing to check.
   */
  async check(connectionId: string, options: { signal?: AbortSignal } = {}): Promise<ConnectionCheck> {
    const built = await this.build(connectionId);
    const check = built.connector?.definition.check?.(built.settings as never);
    if (!check) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `connection "${connectionId}" has no provider check (provider "${built.connector?.definition.id ?? 'custom'}")`,
      );
    }
    const started = this.clock.now();
    const response = await built.client.request({
      path: check.path,
      ...(check.query && { query: check.query }),
      ...(check.headers && { headers: check.headers }),
      ...(options.signal && { signal: options.signal }),
    });
    return { path: check.path, status: response.status, durationMs: this.clock.now() - started };
  }

  /** A HubSpot connection's typed CRM calls. */
  async hubspot(connectionId: string): Promise<HubSpotApi> {
    const { hubspotConnector } = await import('./hubspot/connector.js');
    return this.api(connectionId, hubspotConnector);
  }

  /**
   * The breaker of a connection's calls: from the shared store when there is one (any process answers
   * the same), else as this process's client sees it (`closed` before its first call).
   */
  async breakerState(connection: { id: string; provider: string }): Promise<BreakerState> {
    const built = this.built.get(connection.id);
    if (built?.client.breaker) return built.client.breaker.refresh();
    const { breakers } = this.options;
    if (!breakers) return 'closed';
    const key = breakerName(connection);
    // Read without a change (an absent record is written closed, as the breaker's own first call would).
    let state: BreakerState = 'closed';
    await breakers.update(key, (current) => {
      state = current?.state ?? 'closed';
      return current ?? initialSnapshot;
    });
    return state;
  }

  async close(): Promise<void> {
    const clients = [...this.built.values()].map((b) => b.client);
    this.built.clear();
    await Promise.all(clients.map((c) => c.close()));
  }

  private async build(connectionId: string): Promise<Built> {
    const connection = await this.options.connections.get(connectionId);
    if (!connection) {
      throw new PatchbayError(ErrorCode.NOT_FOUND, `no connection "${connectionId}"`);
    }
    const version = `${connection.provider}|${connection.baseUrl}|${connection.scheme}|${connection.updatedAt}`;
    const cached = this.built.get(connectionId);
    if (cached?.version === version) return cached;
    const connector = await this.connectors.load(connection.provider);
    // Another call built it while the connector loaded: one client per connection version.
    const current = this.built.get(connectionId);
    if (current?.version === version) return current;
    const fresh = this.create(connection, version, connector);
    this.built.set(connectionId, fresh);
    // The old client's pool closes once its calls in flight are answered.
    if (current) void current.client.close().catch(() => undefined);
    return fresh;
  }

  private create(connection: Connection, version: string, connector: Connector | undefined): Built {
    const definition = connector?.definition;
    if (!definition && connection.provider !== 'custom') {
      throw new PatchbayError(
        ErrorCode.CONFIG_INVALID,
        `connection "${connection.id}": provider "${connection.provider}" is not one Patchbay knows (${['custom', ...this.connectors.ids].join(', ')})`,
      );
    }
    const settings = definition ? settingsOf(definition, connection) : undefined;
    const baseUrl = connection.baseUrl ?? definition?.baseUrl(settings);
    if (!baseUrl) {
      throw new PatchbayError(
        ErrorCode.CONFIG_INVALID,
        `connection "${connection.id}": set baseUrl (a "custom" connection has no default)`,
      );
    }
    const { rateLimits, breakers, dispatcher, http, registry, logger } = this.options;
    const owner = breakerName(connection);
    const limits =
      definition?.rateLimits(settings, { scheme: connection.scheme }).map(({ key, scope, ...spec }) => ({
        ...spec,
        name: `${scope ? `${connection.provider}:${scope}` : owner}:${key}`,
        store: rateLimits,
      })) ?? [];
    const timeouts = definition?.timeouts;
    const client = createHttpClient({
      ...http,
      ...(timeouts?.timeoutMs !== undefined && { timeoutMs: timeouts.timeoutMs }),
      ...(timeouts?.deadlineMs !== undefined && {
        deadlineMs: timeouts.deadlineMs,
        // The retry policy bounds the call too: its deadline follows the provider's.
        retry: http?.retry === false ? false : { ...http?.retry, deadlineMs: timeouts.deadlineMs },
      }),
      baseUrl,
      name: connection.id,
      connection: connection.id,
      connections: this.options.auth,
      // A fake or a sidecar on this machine; credentials go nowhere else over plain http.
      allowInsecureHttp: isLoopbackUrl(new URL(baseUrl)),
      ...(limits.length > 0 && { rateLimit: limits as HttpClientOptions['rateLimit'] }),
      ...(breakers && { breaker: { name: owner, store: breakers } }),
      ...(definition?.headers && { headers: definition.headers(settings) }),
      ...(definition?.classify && { classify: definition.classify }),
      ...(definition?.readError && { readError: definition.readError(settings) }),
      ...(dispatcher && { dispatcher }),
      ...(registry && { registry }),
      ...(logger && { logger }),
      ...(this.options.onAttempt && {
        onAttempt: (answer: AttemptAnswer) => this.options.onAttempt?.(connection.id, answer),
      }),
      clock: this.clock,
    });
    return { version, client, connector, settings };
  }
}

/** The breaker (and the limiters' owner) of a connection's calls: `<provider>:connection:<id>`. */
function breakerName(connection: { id: string; provider: string }): string {
  return `${connection.provider}:connection:${connection.id}`;
}
