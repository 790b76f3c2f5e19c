import type { LoadedConfig } from '../core/config/load.js';
import type { Engine } from '../engine/index.js';

export interface GlobalOptions {
  config?: string;
}

/**
 * The configuration. Commands that run the engine's work (`start`, `worker`) need every `${VAR}` it
 * references; commands that only read or change the store pass `leave-out`: what uses an unset variable
 * is left out, and one line on stderr says what.
 */
export async function configFrom(
  options: GlobalOptions,
  unsetVariables: 'fail' | 'leave-out' = 'fail',
): Promise<LoadedConfig> {
  // The schema (zod) is loaded when a command needs the configuration, not for `--help`.
  const { loadConfig } = await import('../core/config/load.js');
  const loaded = await loadConfig({ ...(options.config && { file: options.config }), unsetVariables });
  if (loaded.leftOut) {
    process.stderr.write(
      `note: left out of this command, as variables they use are not set: ${loaded.leftOut.join(', ')}\n`,
    );
  }
  return loaded;
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
