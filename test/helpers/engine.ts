import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Clock } from '../../src/core/clock.js';
import { parseConfig } from '../../src/core/config/index.js';
import type { PatchbayConfigInput } from '../../src/core/config/schema.js';
import { createLogger } from '../../src/core/logger.js';
import { Engine, type EngineOptions } from '../../src/engine/index.js';
import { buildServer } from '../../src/server/index.js';
import type { Database } from '../../src/store/database.js';
import { formatKey, generateKey } from '../../src/vault/index.js';
import type { DialectUnderTest, TestDatabase } from './databases.js';

/** Collects every log line, to assert that none holds a secret. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestEngine {
  engine: Engine;
  /** A connection of the test's own to the engine's store, to look at rows (the engine hands out none). */
  db: Database;
  app: FastifyInstance;
  logs: LogCapture;
  testDb: TestDatabase;
  close(): Promise<void>;
}

/** An engine on a fresh database of `dialect`, with its Fastify app (not listening; use `app.inject`). */
export async function openTestEngine(
  dialect: DialectUnderTest,
  config: PatchbayConfigInput = {},
  options: {
    clock?: Clock;
    migrate?: boolean;
    env?: Record<string, string | undefined>;
    network?: EngineOptions['network'];
  } = {},
): Promise<TestEngine> {
  const testDb = await dialect.create();
  const logs = new LogCapture();
  const parsed = parseConfig({
    dataDir: mkdtempSync(join(tmpdir(), 'patchbay-data-')),
    ...config,
    database: { ...config.database, url: testDb.url },
  });
  const engine = await Engine.open({
    config: parsed,
    // A fresh encryption key per engine, never the developer's environment.
    env: options.env ?? { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) },
    logger: createLogger({ level: 'debug', destination: logs }),
    ...(options.clock && { clock: options.clock }),
    ...(options.migrate !== undefined && { migrate: options.migrate }),
    ...(options.network && { network: options.network }),
  }).catch(async (err: unknown) => {
    await testDb.drop();
    throw err;
  });
  const app = await buildServer(engine);
  const db = await testDb.open();
  return {
    engine,
    db,
    app,
    logs,
    testDb,
    async close() {
      await app.close();
      await engine.stop();
      await db.close();
      await testDb.drop();
    },
  };
}

/**
 * A second engine (another "process") on the store of `t`, with the same encryption key, and its app;
 * on its own clock and logging into `logs` when given. The caller stops it (`app.close()`, then
 * `engine.stop()`).
 */
export async function openPeerEngine(
  t: TestEngine,
  config: PatchbayConfigInput,
  env: Record<string, string>,
  options: { clock?: Clock; logs?: LogCapture } = {},
): Promise<{ engine: Engine; app: FastifyInstance }> {
  const engine = await Engine.open({
    config: parseConfig({
      ...config,
      dataDir: mkdtempSync(join(tmpdir(), 'patchbay-data-')),
      database: { url: t.testDb.url },
    }),
    env,
    logger: options.logs
      ? createLogger({ level: 'debug', destination: options.logs })
      : createLogger({ level: 'silent' }),
    ...(options.clock && { clock: options.clock }),
  });
  return { engine, app: await buildServer(engine) };
}

/** `inject` into the admin API of `app` with a bearer token. */
export function adminApi(
  app: FastifyInstance,
  token: string,
): (
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: Record<string, unknown>,
) => Promise<LightMyRequestResponse> {
  return (method, url, payload) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      // State changes carry a JSON content type even without a body (the admin API refuses them otherwise).
      headers: {
        authorization: `Bearer ${token}`,
        ...(method !== 'GET' && method !== 'DELETE' && { 'content-type': 'application/json' }),
      },
      ...(payload !== undefined && { payload }),
    });
}
