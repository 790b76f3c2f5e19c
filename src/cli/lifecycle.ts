import { loadConfig, type PatchbayConfig } from '../core/config/index.js';
import type { Engine } from '../engine/index.js';

export interface GlobalOptions {
  config?: string;
}

export async function configFrom(options: GlobalOptions): Promise<{ config: PatchbayConfig; file?: string }> {
  return loadConfig(options.config ? { file: options.config } : {});
}

/**
 * Runs until SIGTERM or SIGINT, then calls `shutdown` once. A second signal exits at once (the operator
 * insists); jobs still leased then come back after their lease, so nothing is lost either way.
 */
export function onShutdownSignal(engine: Engine, shutdown: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        engine.logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      engine.logger.info({ signal }, 'shutting down');
      shutdown().then(resolve, (err) => {
        engine.logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
