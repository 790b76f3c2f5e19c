import { ConfigError } from '../../core/config/load.js';
import type { SourceConfig } from '../../core/config/schema.js';
import type { SyncEntry } from '../../core/config/syncs.js';
import type { ModuleContext, PatchbayModule } from '../../core/module.js';
import type { ConnectorModulePorts, ConnectorModuleService } from '../connector-module.js';
import type { SubscriptionView } from '../subscription-view.js';
import { DEFAULT_SUBSCRIPTION_MINUTES, msgraphSettingsSchema } from './definition.js';
import { MsGraphSubscriptions, type WatchedFolder } from './subscription-manager.js';
import { messagesOptionsSchema } from './sync-models.js';

/** The module's service: each notified folder's subscription (the subscriptions route lists them). */
export interface MsGraphSubscriptionsService extends ConnectorModuleService {
  /** Every notified folder's subscription, or only those of one connection. */
  subscriptions(connectionId?: string): SubscriptionView[];
}

interface Manager {
  connection: string;
  source: string;
  manager: MsGraphSubscriptions;
}

/**
 * Keeps the change-notification subscriptions of every `msgraph.messages` sync with `options.notify`
 * (the id of an `msgraph` source): one `MsGraphSubscriptions` per connection and source, its URL the
 * source's `verify.publicUrl`, its `clientState` the source's first secret, its lifetime the
 * connection's `maxSubscriptionMinutes`. The source's events drive the folders' runs. Started with the
 * workers; `GET /connections/:id/subscriptions` shows each folder's subscription. Contributed through
 * the connector registry: built only for a config with such a sync.
 */
export async function createMsGraphSubscriptionsModule(
  ctx: ModuleContext,
  settings: { syncs: readonly SyncEntry[]; sources: readonly SourceConfig[] },
  deps: ConnectorModulePorts,
): Promise<PatchbayModule<MsGraphSubscriptionsService>> {
  const groups = new Map<string, { connection: string; source: string; folders: WatchedFolder[] }>();
  const problems: string[] = [];
  for (const [i, entry] of settings.syncs.entries()) {
    if (entry.model !== 'msgraph.messages') continue;
    const parsed = messagesOptionsSchema.safeParse(entry.options ?? {});
    // A bad option is the sync module's to report; it was built first.
    if (!parsed.success || parsed.data.notify === undefined) continue;
    const where = `syncs[${i}].options.notify`;
    const source = settings.sources.find((s) => s.id === parsed.data.notify);
    if (!source) {
      problems.push(`${where}: unknown source "${parsed.data.notify}" (add an msgraph source of that id)`);
      continue;
    }
    if (source.verify.scheme !== 'msgraph') {
      problems.push(
        `${where}: source "${source.id}" verifies scheme "${source.verify.scheme}"; Graph's notifications need scheme msgraph`,
      );
      continue;
    }
    if (source.verify.publicUrl === undefined) {
      problems.push(
        `${where}: source "${source.id}" needs verify.publicUrl, the https URL Graph calls (…/webhooks/${source.id})`,
      );
      continue;
    }
    const key = `${entry.connection}\u0000${source.id}`;
    const group = groups.get(key) ?? { connection: entry.connection, source: source.id, folders: [] };
    group.folders.push({ mailbox: parsed.data.mailbox, folder: parsed.data.folder, syncId: entry.id });
    groups.set(key, group);
  }
  const managers: Manager[] = [];
  for (const group of groups.values()) {
    const connection = await deps.connections.get(group.connection);
    if (connection?.provider !== 'msgraph') {
      problems.push(
        `syncs: ${group.folders.map((f) => f.syncId).join(', ')} notify through connection "${group.connection}", which is not an msgraph connection`,
      );
      continue;
    }
    const source = settings.sources.find((s) => s.id === group.source)!;
    const maxMinutes =
      msgraphSettingsSchema.safeParse(connection.metadata ?? {}).data?.maxSubscriptionMinutes ??
      DEFAULT_SUBSCRIPTION_MINUTES;
    const manager = new MsGraphSubscriptions({
      client: () => deps.clients.client(group.connection),
      connectionId: group.connection,
      clock: ctx.clock,
      limits: deps.limits,
      notificationUrl: source.verify.publicUrl!,
      clientState: source.verify.secrets[0]!,
      folders: group.folders,
      maxMinutes,
      requestRun: (syncId, at) => deps.requestRun(syncId, at),
      logger: ctx.logger,
    });
    await deps.on(
      `${group.source}.**`,
      (type, payload) => manager.handle(type, payload),
      `msgraph-subscriptions-${group.connection}-${group.source}`,
    );
    managers.push({ connection: group.connection, source: group.source, manager });
  }
  if (problems.length > 0) throw new ConfigError(problems, undefined);

  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const service: MsGraphSubscriptionsService = {
    subscriptions: (connectionId) =>
      managers
        .filter((m) => connectionId === undefined || m.connection === connectionId)
        .flatMap(({ connection, source, manager }) =>
          manager.subscriptions().map((s) => ({
            connection,
            source,
            syncId: s.syncId,
            resource: s.resource,
            subscriptionId: s.subscriptionId,
            expiresAt: iso(s.expiresAt),
            renewedAt: iso(s.renewedAt),
            problem: s.problem,
          })),
        ),
  };
  return {
    name: 'msgraph-subscriptions',
    service,
    async start() {
      for (const { manager } of managers) manager.start();
    },
    async stop() {
      for (const { manager } of managers) await manager.stop();
    },
  };
}
