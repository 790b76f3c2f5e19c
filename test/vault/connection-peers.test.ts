import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { Engine } from '../../src/engine/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { formatKey, generateKey } from '../../src/vault/index.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';

/**
 * A connection changed or deleted by one process is seen by another that holds its credentials in
 * cache, within `revalidateMs` (1 s) of its clock: the cached copy's version stamp is read again.
 * Before, a changed bearer token was used for 30 s more, and an OAuth token of a deleted connection
 * until it expired.
 */
for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`connections changed by another process, on ${dialect.name}`, () => {
    const env = { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) };
    const clock = new FakeClock();
    let a: TestEngine;
    let b: Engine;

    beforeAll(async () => {
      a = await openTestEngine(dialect, {}, { env });
      b = await Engine.open({
        config: parseConfig({
          dataDir: mkdtempSync(join(tmpdir(), 'patchbay-data-')),
          database: { url: a.testDb.url },
        }),
        env,
        clock,
        logger: createLogger({ level: 'silent' }),
      });
    });
    afterAll(async () => {
      await b?.stop();
      await a?.close();
    });

    const tokenIn = async (engine: Engine, id: string) =>
      (await engine.vault.refresh.current(id)).secrets.token;

    it('sees a new token and a deletion within a second of its own clock', async () => {
      await a.engine.vault.connections.create(
        { id: 'crm', auth: { scheme: 'bearer', token: 'first-token' } } as never,
        'api',
      );
      expect(await tokenIn(b, 'crm')).toBe('first-token');

      await a.engine.vault.connections.update('crm', { auth: { token: 'second-token' } });
      // Within the window the copy serves without a read; once it is past, the stamp is read.
      expect(await tokenIn(b, 'crm')).toBe('first-token');
      await clock.advance(1000);
      expect(await tokenIn(b, 'crm')).toBe('second-token');

      await a.engine.vault.connections.delete('crm');
      await clock.advance(1000);
      await expect(b.vault.refresh.current('crm')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
}
