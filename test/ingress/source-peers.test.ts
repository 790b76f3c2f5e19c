import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { formatKey, generateKey } from '../../src/vault/index.js';
import { allDialects } from '../helpers/databases.js';
import { LogCapture, openPeerEngine, openTestEngine, type TestEngine } from '../helpers/engine.js';
import { githubRequest } from '../helpers/github-request.js';

const SECRET = 'peer-source-secret';

/**
 * A source made, changed or deleted by one process is seen by another within a second of the other's
 * clock: once its copy is that old, a request reads the stored version (and the rows only when it
 * moved). There is no refresh loop; a failed read is logged and counted, and the copy serves.
 */
for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`sources made by another process, on ${dialect.name}`, () => {
    const env = { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) };
    const clock = new FakeClock();
    const logs = new LogCapture();
    let a: TestEngine;
    let b: Engine;
    let bApp: FastifyInstance;

    beforeAll(async () => {
      a = await openTestEngine(dialect, {}, { env });
      ({ engine: b, app: bApp } = await openPeerEngine(a, {}, env, { clock, logs }));
    });
    afterAll(async () => {
      await bApp?.close();
      await b?.stop();
      await a?.close();
    });

    const receive = async (delivery: string) =>
      (await bApp.inject({ url: '/webhooks/peer', ...githubRequest(SECRET, delivery) })).statusCode;
    const failures = async () => {
      // This metric only: collecting them all would score the sources too, which reads them again.
      const text = await b.registry.getSingleMetricAsString('patchbay_source_revalidation_failures_total');
      return Number(/patchbay_source_revalidation_failures_total\{stage="read"\} (\d+)/.exec(text)?.[1] ?? 0);
    };

    it('sees a new source, a change and a deletion within a second of its own clock', async () => {
      await a.engine.events.sources.create({ id: 'peer', verify: { scheme: 'github', secrets: [SECRET] } });
      // Within the second the copy serves without a read: the id is unknown here still.
      expect(await receive('p-1')).toBe(404);
      await clock.advance(1000);
      expect(await receive('p-2')).toBe(200);

      await a.engine.events.sources.update('peer', { verify: { scheme: 'github', secrets: ['rotated'] } });
      expect(await receive('p-3')).toBe(200);
      await clock.advance(1000);
      expect(await receive('p-4')).toBe(401);

      await a.engine.events.sources.delete('peer');
      await clock.advance(1000);
      expect(await receive('p-5')).toBe(404);
    });

    it('logs and counts a failed read, and serves its copy meanwhile', async () => {
      await a.engine.events.sources.create({ id: 'peer', verify: { scheme: 'github', secrets: [SECRET] } });
      await clock.advance(1000);
      expect(await receive('q-1')).toBe(200);
      const before = await failures();
      // The store stops answering reads of sources (the table is away for a moment).
      await sql`alter table sources rename to sources_away`.execute(a.db.db);
      try {
        await clock.advance(1000);
        expect(await receive('q-2')).toBe(200);
        expect(await failures()).toBe(before + 1);
        expect(logs.text).toContain('reading the sources other processes made or changed failed');
        // Tried again a second later, not on every request.
        expect(await receive('q-3')).toBe(200);
        expect(await failures()).toBe(before + 1);
      } finally {
        await sql`alter table sources_away rename to sources`.execute(a.db.db);
      }
      await a.engine.events.sources.delete('peer');
      await clock.advance(1000);
      expect(await receive('q-4')).toBe(404);
    });
  });
}
