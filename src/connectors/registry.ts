import type { PatchbayConfig } from '../core/config/index.js';
import type { AnySyncModel } from '../sync/sync-model.js';
import type { ConnectorModuleEntry } from './connector-module.js';
import type { Connector } from './provider.js';

/** Connectors by `provider:` id. */
export type ConnectorRegistry = ReadonlyMap<string, Connector>;

/**
 * The providers Patchbay ships, each imported when first named (by a connection's `provider:` or a
 * sync's `model:`): a process that uses none, such as a CLI command reading events, loads none of their
 * modules. A connector adds its line here.
 */
const BUILT_IN: Readonly<Record<string, () => Promise<Connector>>> = {
  hubspot: async () => (await import('./hubspot/connector.js')).hubspotConnector as Connector,
  msgraph: async () => (await import('./msgraph/connector.js')).msgraphConnector as Connector,
  sendgrid: async () => (await import('./sendgrid/connector.js')).sendgridConnector as Connector,
  github: async () => (await import('./github/connector.js')).githubConnector as Connector,
  openai: async () => (await import('./openai/connector.js')).openaiConnector as Connector,
  stripe: async () => (await import('./stripe/connector.js')).stripeConnector as Connector,
  finale: async () => (await import('./finale/connector.js')).finaleConnector as Connector,
};

/** The ids of the providers Patchbay ships (`custom` aside). */
export const builtInProviderIds: readonly string[] = Object.keys(BUILT_IN);

/** Where connectors come from: ids known without loading anything, a connector loaded on demand. */
export interface ConnectorSource {
  readonly ids: readonly string[];
  load(id: string): Promise<Connector | undefined>;
}

/** The built-in connectors, loaded on demand. */
export const builtInConnectorSource: ConnectorSource = {
  ids: builtInProviderIds,
  load: async (id) => (Object.hasOwn(BUILT_IN, id) ? BUILT_IN[id]!() : undefined),
};

/** A registry given whole (tests, a user's own connectors) as a source. */
export function connectorSourceOf(registry: ConnectorRegistry): ConnectorSource {
  return { ids: [...registry.keys()], load: async (id) => registry.get(id) };
}

/** Every built-in connector, loaded (the package's `builtInConnectors`). */
export async function loadBuiltInConnectors(): Promise<ConnectorRegistry> {
  const all = await Promise.all(builtInProviderIds.map((id) => BUILT_IN[id]!()));
  return new Map(all.map((connector) => [connector.definition.id, connector]));
}

/**
 * The sync models the named models need (`hubspot.contacts` loads HubSpot's connector only). A name
 * whose provider has no such model loads every connector, so the config error can list every model.
 */
export async function syncModelsFor(names: readonly string[]): Promise<AnySyncModel[]> {
  if (names.length === 0) return [];
  const providers = [...new Set(names.map((name) => name.split('.')[0]!))].filter((id) =>
    Object.hasOwn(BUILT_IN, id),
  );
  const models = (await Promise.all(providers.map((id) => BUILT_IN[id]!()))).flatMap((c) => c.models ?? []);
  if (names.every((name) => models.some((m) => m.name === name))) return models;
  return [...(await loadBuiltInConnectors()).values()].flatMap((c) => c.models ?? []);
}

/**
 * The modules connectors contribute to the engine, each with the test of a config that needs it (which
 * loads nothing) and its factory, imported only then: a config that needs none loads none of them. A
 * connector contributing a module adds its entry here; the engine and the other modules do not change.
 */
const CONTRIBUTED_MODULES: readonly ConnectorModuleEntry[] = [
  {
    // Change-notification subscriptions for the folders whose sync names a source in `notify` (0088).
    name: 'msgraph-subscriptions',
    needed: (config) =>
      config.syncs.some((entry) => entry.model === 'msgraph.messages' && entry.options?.notify !== undefined),
    load: async () => (await import('./msgraph/subscriptions-module.js')).createMsGraphSubscriptionsModule,
  },
];

/** The contributed modules a config needs, in the order they are built. */
export function connectorModulesFor(config: PatchbayConfig): ConnectorModuleEntry[] {
  return CONTRIBUTED_MODULES.filter((entry) => entry.needed(config));
}
