import { Counter, Histogram } from 'prom-client';
import type { ConnectionDefinition } from '../core/config/connections.js';
import type { ModuleContext, PatchbayModule } from '../core/module.js';
import type { EventPublisher } from '../core/publisher.js';
import type { Database } from '../store/database.js';
import { connectionRoutes } from './connection-routes.js';
import { keyRoutes } from './key-routes.js';
import { oauthCallbackRoute } from './oauth-callback-route.js';
import { type OpenVaultOptions, openVault, type VaultServices, type VaultSettings } from './open-vault.js';
import type { EncryptedColumn } from './vault.js';

export interface VaultModuleSettings {
  /** Connections declared in the configuration file, written to the store at open. */
  connections: readonly ConnectionDefinition[];
  settings: VaultSettings;
  /** Where a generated key file goes. */
  dataDir: string;
  /** Where the encryption key variables are read. */
  env: Record<string, string | undefined>;
  /** How OAuth and connection calls reach the network behind the SSRF guard (tests inject both). */
  network?: OpenVaultOptions['network'];
}

export interface VaultPorts {
  database: Database;
  /** Where `connection.needs_reauth` / `connection.recovered` go (the event log). */
  publisher: EventPublisher;
  /** Other modules' encrypted columns, which key rotation re-encrypts with the vault's own. */
  columns: readonly EncryptedColumn[];
}

export type VaultModule = PatchbayModule<VaultServices>;

/**
 * Credentials: the keyring, connections, OAuth flows, token refresh and rotation. Opening it checks the
 * encryption key against the store: a wrong or missing key stops start-up here with one
 * `ENCRYPTION_KEY_INVALID` message.
 */
export async function createVaultModule(
  ctx: ModuleContext,
  settings: VaultModuleSettings,
  ports: VaultPorts,
): Promise<VaultModule> {
  const grants = new Counter({
    name: 'patchbay_oauth_token_requests_total',
    help: 'Token requests to OAuth servers, by connection, grant type and outcome (ok, refused, failed).',
    labelNames: ['connection', 'grant', 'outcome'] as const,
    registers: [ctx.registry],
  });
  const grantSeconds = new Histogram({
    name: 'patchbay_oauth_token_request_duration_seconds',
    help: 'Duration of token requests to OAuth servers.',
    labelNames: ['grant'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [ctx.registry],
  });
  const revalidationFailures = new Counter({
    name: 'patchbay_connection_revalidation_failures_total',
    help: 'Reads of whether a cached connection changed in another process that failed (the cached copy served; the log has each error).',
    labelNames: ['connection'] as const,
    registers: [ctx.registry],
  });
  const services = await openVault({
    database: ports.database,
    env: settings.env,
    dataDir: settings.dataDir,
    logger: ctx.logger,
    clock: ctx.clock,
    publisher: ports.publisher,
    connections: settings.connections,
    settings: settings.settings,
    columns: ports.columns,
    ...(settings.network && { network: settings.network }),
    onRevalidateError: (connection) => revalidationFailures.inc({ connection }),
    onGrant: (e) => {
      grants.inc({ connection: e.connectionId, grant: e.grantType, outcome: e.outcome });
      grantSeconds.observe({ grant: e.grantType }, e.durationMs / 1000);
    },
  });
  return {
    name: 'vault',
    service: services,
    adminRoutes: async (app) => {
      await connectionRoutes(app, services);
      await keyRoutes(app, services);
    },
    publicRoutes: (app) => oauthCallbackRoute(app, services),
    stop: () => services.egress.close(),
  };
}
