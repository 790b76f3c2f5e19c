/**
 * Patchbay for the slow-clients benchmark, in its own process: an engine on SQLite in argv[2] with the
 * default `server.limits`, one GitHub-signed source, the HTTP server on 127.0.0.1. Reports its port over
 * IPC, samples its RSS every 100 ms, and answers `{ rss: true }` with `{ rssPeak, rss }` (bytes) and how
 * busy its event loop was since the last `{ resetPeak: true }` (`loopBusy`, 0–1; `loopDelayP99Ms`) and the
 * CPU time it used (`cpuMs`).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseConfig } from '../src/core/config/index.js';
import { createLogger } from '../src/core/logger.js';
import { Engine } from '../src/engine/index.js';
import { buildServer } from '../src/server/app.js';
import { listenOptions } from '../src/server/limits/index.js';

const [databaseUrl, secret, dataDir] = process.argv.slice(2) as [string, string, string];
// BENCH_LIMITS='{"listenBacklog":511}': other `server.limits` than the defaults, to compare levers.
const limits = process.env.BENCH_LIMITS ? JSON.parse(process.env.BENCH_LIMITS) : {};
const config = parseConfig({
  server: { limits },
  dataDir,
  // BENCH_SQLITE_SYNCHRONOUS=NORMAL: commits that do not wait for the disk, to see what the fsyncs cost.
  database: {
    url: databaseUrl,
    ...(process.env.BENCH_SQLITE_SYNCHRONOUS && { sqliteSynchronous: process.env.BENCH_SQLITE_SYNCHRONOUS }),
  },
  sources: [{ id: 'bench', verify: { scheme: 'github', secrets: [secret] } }],
  log: { level: 'warn' },
});
const engine = await Engine.open({ config, logger: createLogger({ level: 'warn' }) });
const app = await buildServer(engine);
await app.listen({ ...listenOptions(config.server), port: 0 });

let rssPeak = process.memoryUsage.rss();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let elu = performance.eventLoopUtilization();
// CPU time is what a loaded machine does not distort: loop utilisation counts the time the process waited
// for a core as busy.
let cpu = process.cpuUsage();
setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 100).unref();

// BENCH_PROFILE=<file>: a CPU profile of the attack phase (between the two profile messages).
const session = process.env.BENCH_PROFILE ? new Session() : undefined;

process.on(
  'message',
  async (message: {
    rss?: boolean;
    resetPeak?: boolean;
    connections?: boolean;
    profile?: 'start' | 'stop';
  }) => {
    if (session && message.profile === 'start') {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    if (session && message.profile === 'stop') {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(process.env.BENCH_PROFILE!, JSON.stringify(profile));
    }
    if (message.resetPeak) {
      rssPeak = process.memoryUsage.rss();
      loopDelay.reset();
      elu = performance.eventLoopUtilization();
      cpu = process.cpuUsage();
    }
    if (message.rss) {
      process.send?.({
        rssPeak,
        rss: process.memoryUsage.rss(),
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopBusy: performance.eventLoopUtilization(elu).utilization,
        cpuMs: (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpu)),
      });
    }
    if (message.connections) {
      app.server.getConnections((_err, count) => process.send?.({ connections: count }));
    }
  },
);
process.send?.({ port: (app.server.address() as AddressInfo).port });
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => engine.stop())
    .then(() => process.exit(0));
});
