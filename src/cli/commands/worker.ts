import { Command } from 'commander';
import { configFrom, type GlobalOptions, onShutdownSignal } from '../lifecycle.js';

export function workerCommand(): Command {
  return new Command('worker')
    .description('Run workers only (no HTTP): deliveries and maintenance taken from the shared store.')
    .option('-c, --config <file>', 'config file')
    .action(async (options: GlobalOptions) => {
      const { config } = await configFrom(options);
      const { Engine } = await import('../../engine/index.js');
      const engine = await Engine.open({ config });
      await engine.startWorkers();
      engine.logger.info({ store: engine.storeDescription }, 'patchbay worker is running');
      await onShutdownSignal(engine, () => engine.stop());
    });
}
