import type { ConnectorRegistry } from '../../connectors/registry.js';

/** Host of each known provider's default API → its id: a `custom` connection to one misses its profile. */
export function providerHosts(registry: ConnectorRegistry): Map<string, string> {
  const hosts = new Map<string, string>();
  for (const { definition } of registry.values()) {
    try {
      const settings = definition.settings.parse({});
      hosts.set(new URL(definition.baseUrl(settings)).hostname.toLowerCase(), definition.id);
    } catch {
      // Its base URL needs settings (an account name): nothing to match against.
    }
  }
  return hosts;
}
