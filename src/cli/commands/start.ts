import { Command } from 'commander';
import { adminApiNotice, assertAdminTokenForBind } from '../../core/api/admin-exposure.js';
import { configFrom, type GlobalOptions, onShutdownSignal } from '../lifecycle.js';
import { CliError } from '../output.js';

interface StartOptions extends GlobalOptions {
  port?: string;
  host?: string;
  workers: boolean;
}

export function startCommand(): Command {
  return new Command('start')
    .description('Run the server (webhook ingress, admin API, metrics) with in-process workers.')
    .option(
      '-c, --config <file>',
      'config file (default: PATCHBAY_CONFIG or ./patchbay.config.{yaml,json,js})',
    )
    .option('-p, --port <port>', 'port to listen on (default: PATCHBAY_PORT or 8080)')
    .option('--host <host>', 'interface to bind (default: 127.0.0.1)')
    .option('--no-workers', 'serve HTTP only; leave jobs to `patchbay worker` processes')
    .action(async (options: StartOptions) => {
      const { config, file } = await configFrom(options);
      if (options.port !== undefined) {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new CliError(`--port must be a port number (0–65535), got "${options.port}"`);
        }
        config.server.port = port;
      }
      if (options.host !== undefined) config.server.host = options.host;
      assertAdminTokenForBind(config.server.host, config.server.adminToken);

      const { Engine } = await import('../../engine/index.js');
      const { buildServer, listenOptions } = await import('../../server/index.js');
      const engine = await Engine.open({ config });
      try {
        const app = await buildServer(engine);
        await app.listen(listenOptions(config.server));
        if (options.workers) await engine.startWorkers();
        const address = app.server.address();
        const port = typeof address === 'object' && address ? address.port : config.server.port;
        const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;
        engine.logger.info(
          { url, store: engine.storeDescription, config: file ?? '(defaults)' },
          `patchbay is listening on ${url}; ${adminApiNotice(url, config.server.adminToken)}`,
        );
        await onShutdownSignal(engine, async () => {
          await app.close();
          await engine.stop();
        });
      } catch (err) {
        await engine
          .stop()
          .catch((stopErr) => engine.logger.warn({ err: stopErr }, 'stop after a failed start'));
        throw err;
      }
    });
}
