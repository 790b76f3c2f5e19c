import { createLogger } from '../../core/logger.js';
import { Engine } from '../../engine/index.js';
import { buildServer } from '../../server/index.js';
import { configFrom, type GlobalOptions } from '../lifecycle.js';
import { type AdminRequest, type AdminResponse, searchOf, type Transport } from './transport.js';

/**
 * The admin API of this machine's store without a server: the engine opened for one command (no
 * workers), the very Fastify app `start` serves built on it, and each request injected into it. Same
 * routes, validation, errors and views as over HTTP; nothing listens on a port. Loaded only when a
 * command runs without `--url` (it is the heavy part of the CLI).
 */
export async function localTransport(options: GlobalOptions): Promise<Transport> {
  const { config } = await configFrom(options, 'leave-out');
  // Logs go to stderr at warn level so stdout stays clean for the command's own output.
  const logger = createLogger({
    level: process.env.PATCHBAY_LOG_LEVEL ?? 'warn',
    destination: process.stderr,
    format: config.log.format,
  });
  const engine = await Engine.open({ config, logger });
  try {
    const app = await buildServer(engine);
    await app.ready();
    const token = config.server.adminToken;
    // The name a browser would use for this server: OAuth redirect URIs default to it, as in `start`.
    const host = `127.0.0.1:${config.server.port}`;
    return {
      target: engine.storeDescription,
      local: true,
      async send(request: AdminRequest): Promise<AdminResponse> {
        const response = await app.inject({
          method: request.method,
          url: `/api/v1${request.path}${searchOf(request.query)}`,
          headers: {
            host,
            accept: request.accept ?? 'application/json',
            ...(token && { authorization: `Bearer ${token}` }),
            ...(request.body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(request.body !== undefined && { payload: JSON.stringify(request.body) }),
          payloadAsStream: true,
        });
        return { status: response.statusCode, body: response.stream() };
      },
      async close() {
        await app.close();
        await engine.stop();
      },
    };
  } catch (err) {
    await engine.stop().catch(() => {});
    throw err;
  }
}
