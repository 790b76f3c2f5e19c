import type { PatchbayConfig } from '../core/config/index.js';
import type { ModuleContext, PatchbayModule } from '../core/module.js';
import type {
  ConnectorModuleEntry,
  ConnectorModulePorts,
  ConnectorModuleService,
} from './connector-module.js';

/**
 * Builds the modules connectors contribute that `config` needs (`connectorModulesFor`), each factory
 * imported only now. If one fails (a config error it names), those built before it are stopped.
 */
export async function buildConnectorModules(
  entries: readonly ConnectorModuleEntry[],
  ctx: (name: string) => ModuleContext,
  config: PatchbayConfig,
  ports: ConnectorModulePorts,
): Promise<PatchbayModule<ConnectorModuleService>[]> {
  const built: PatchbayModule<ConnectorModuleService>[] = [];
  try {
    for (const entry of entries) {
      const create = await entry.load();
      built.push(await create(ctx(entry.name), config, ports));
    }
    return built;
  } catch (err) {
    for (const module of built.reverse()) await module.stop?.().catch(() => {});
    throw err;
  }
}
