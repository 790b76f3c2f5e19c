/**
 * Patchbay's ingress for the benchmark, in its own process: an engine on the database given in argv[2],
 * one GitHub-signed source, the HTTP server on 127.0.0.1; reports its port over IPC.
 */
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../src/core/config/index.js';
import { createLogger } from '../src/core/logger.js';
import { Engine } from '../src/engine/index.js';
import { buildServer } from '../src/server/app.js';

const [databaseUrl, secret, dataDir] = process.argv.slice(2) as [string, string, string];
const config = parseConfig({
  dataDir,
  database: { url: databaseUrl },
  sources: [{ id: 'bench', verify: { scheme: 'github', secrets: [secret] } }],
  log: { level: 'warn' },
});
const engine = await Engine.open({ config, logger: createLogger({ level: 'warn' }) });
const app = await buildServer(engine);
await app.listen({ host: '127.0.0.1', port: 0 });
app.server.keepAliveTimeout = 60_000;
process.send?.((app.server.address() as AddressInfo).port);
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => engine.stop())
    .then(() => process.exit(0));
});
