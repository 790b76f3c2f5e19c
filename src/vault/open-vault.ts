import { type Clock, systemClock } from '../core/clock.js';
import type { ConnectionDefinition } from '../core/config/connections.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { type EventPublisher, nullPublisher } from '../core/publisher.js';
import type { Connector, Resolver } from '../http/ssrf/index.js';
import type { Database } from '../store/database.js';
import { AuthorizationFlow } from './authorization-flow.js';
import { VaultAuthResolver } from './connection-auth.js';
import { ConnectionService } from './connection-service.js';
import { Egress } from './egress.js';
import { KeyRotation } from './key-rotation.js';
import { OAuthClient } from './oauth-client.js';
import { type GrantEvent, TokenRefreshManager } from './token-refresh.js';
import { type EncryptedColumn, Vault } from './vault.js';

/** Tunables of the vault; the config file's `vault:` section maps onto them one to one. */
export interface VaultSettings {
  /** Refresh access tokens this long before they expire, in ms. Defaults to 60 s. */
  refreshSkewMs?: number;
  /** Longest wait for a token endpoint, in ms. Defaults to 10 s. */
  tokenTimeoutMs?: number;
  /** Refresh lock lease, in ms. Defaults to 30 s. */
  lockTimeoutMs?: number;
  /** Authorization link lifetime, in ms. Defaults to 10 min. */
  stateTtlMs?: number;
  /** Public URL of `/oauth/callback`. Defaults to none (the server passes its own address). */
  redirectUrl?: string;
  /**
   * Allow OAuth endpoints and connection APIs on loopback addresses, plain http included (local test
   * servers). Defaults to false.
   */
  allowInsecureLoopback?: boolean;
  /**
   * CIDR networks OAuth endpoints and connections' APIs may reach despite the SSRF rule (docs/ssrf.md).
   * Defaults to none.
   */
  allowedNetworks?: readonly string[];
  /** How often a process re-reads which key is primary, in ms. Defaults to 5 s. */
  primaryRefreshMs?: number;
}

export interface OpenVaultOptions {
  database: Database;
  /** Where the encryption key variables are read. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Data directory for the generated key file. Defaults to `./.patchbay`. */
  dataDir?: string;
  logger?: Logger;
  clock?: Clock;
  /** Where `connection.needs_reauth` / `connection.recovered` go. Defaults to nowhere. */
  publisher?: EventPublisher;
  settings?: VaultSettings;
  /** Connections declared in the config file, written to the store at open. */
  connections?: readonly ConnectionDefinition[];
  /** Fetch for token endpoints, bypassing the guard's connect-time check (tests). Defaults to the guarded one. */
  fetch?: typeof fetch;
  /** How OAuth and connection calls reach the network behind the SSRF guard (tests inject both). */
  network?: { resolver?: Resolver; connect?: Connector };
  /** Told of every token request (the engine counts them in Prometheus). */
  onGrant?: (event: GrantEvent) => void;
  /** Told when reading whether a cached connection changed failed (for metrics). */
  onRevalidateError?: (connectionId: string) => void;
  /** Encrypted columns of other modules, re-encrypted by key rotation with the vault's own. */
  columns?: readonly EncryptedColumn[];
}

/** Everything the vault offers, built once per process by the engine. */
export interface VaultServices {
  vault: Vault;
  connections: ConnectionService;
  oauth: OAuthClient;
  refresh: TokenRefreshManager;
  authorization: AuthorizationFlow;
  /** For `createHttpClient({ connection, connections: resolver })`. */
  resolver: VaultAuthResolver;
  rotation: KeyRotation;
  /** The SSRF rule and guarded dispatcher for everything the vault and connections dial. */
  egress: Egress;
}

/**
 * Opens the vault on a migrated database: loads and checks the encryption keys (throwing one clear
 * `ENCRYPTION_KEY_INVALID` error when they are wrong or missing), then builds the connection services.
 */
export async function openVault(options: OpenVaultOptions): Promise<VaultServices> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const settings = options.settings ?? {};
  const vault = await Vault.open({
    database: options.database,
    clock,
    logger,
    ...(options.env && { env: options.env }),
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(settings.primaryRefreshMs !== undefined && { primaryRefreshMs: settings.primaryRefreshMs }),
    ...(options.columns && { columns: options.columns }),
  });
  const egress = new Egress({
    ...(settings.allowedNetworks && { allowedNetworks: settings.allowedNetworks }),
    allowLoopback: settings.allowInsecureLoopback === true,
    ...(options.network?.resolver && { resolver: options.network.resolver }),
    ...(options.network?.connect && { connect: options.network.connect }),
  });
  const connections = new ConnectionService({
    database: options.database,
    vault,
    clock,
    logger,
    publisher: options.publisher ?? nullPublisher,
    egress,
  });
  const oauth = new OAuthClient({
    clock,
    egress,
    ...(settings.allowInsecureLoopback !== undefined && {
      allowInsecureLoopback: settings.allowInsecureLoopback,
    }),
    ...(settings.tokenTimeoutMs !== undefined && { timeoutMs: settings.tokenTimeoutMs }),
    ...(options.fetch && { fetch: options.fetch }),
  });
  const refresh = new TokenRefreshManager({
    connections,
    oauth,
    clock,
    logger,
    ...(settings.refreshSkewMs !== undefined && { refreshSkewMs: settings.refreshSkewMs }),
    ...(settings.lockTimeoutMs !== undefined && { lockTimeoutMs: settings.lockTimeoutMs }),
    ...(options.onGrant && { onGrant: options.onGrant }),
    ...(options.onRevalidateError && { onRevalidateError: options.onRevalidateError }),
  });
  const authorization = new AuthorizationFlow({
    connections,
    oauth,
    vault,
    clock,
    logger,
    ...(settings.stateTtlMs !== undefined && { stateTtlMs: settings.stateTtlMs }),
    ...(settings.redirectUrl !== undefined && { redirectUrl: settings.redirectUrl }),
  });
  if (options.connections?.length) await connections.syncFromConfig(options.connections);
  return {
    vault,
    connections,
    oauth,
    refresh,
    authorization,
    resolver: new VaultAuthResolver(connections, refresh),
    rotation: new KeyRotation(vault),
    egress,
  };
}
