import type { ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { freePort, startCli, tempDir } from '../helpers/cli.js';
import { allDialects, type TestDatabase } from '../helpers/databases.js';

/**
 * Persist before acknowledging, proven the hard way: a load generator sends N unique signed webhooks while
 * the server is SIGKILLed and restarted; every request answered 2xx must be in the event log exactly once,
 * and sending all N again must add nothing.
 */
const N = Number(process.env.INGRESS_DURABILITY_EVENTS ?? 3000);
const KILLS = 3;
const SECRET = randomBytes(20).toString('hex');

function webhook(i: number): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ action: 'created', order: { i, note: randomBytes(8).toString('hex') } });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-delivery': `delivery-${i}`,
      'x-github-event': 'order',
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
  };
}

/**
 * Sends every webhook until it is acknowledged, as a provider retries, with `connections` in flight.
 * Returns how many tries got a 2xx, were refused by a dying server, or failed on the network.
 */
async function sendAll(port: number, bodies: ReturnType<typeof webhook>[], stop: () => boolean) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 32, connectTimeout: 2000 });
  const stats = { acked: 0, failed: 0, duplicates: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < bodies.length && !stop()) {
        const i = next++;
        for (;;) {
          try {
            const res = await pool.request({
              method: 'POST',
              path: '/webhooks/orders',
              headers: bodies[i]!.headers,
              body: bodies[i]!.body,
              headersTimeout: 5000,
            });
            const text = await res.body.text();
            if (res.statusCode === 200) {
              stats.acked++;
              stats.duplicates += (JSON.parse(text) as { duplicates: number }).duplicates;
              break;
            }
            // A 503 from a closing server is a retry; anything else is a bug.
            if (res.statusCode !== 503) throw new Error(`webhook ${i}: ${res.statusCode} ${text}`);
          } catch (err) {
            if ((err as Error).message.startsWith('webhook ')) throw err;
          }
          stats.failed++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }),
  );
  await pool.close();
  return stats;
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`ingress durability on ${dialect.name}`, () => {
    const databases: TestDatabase[] = [];
    afterAll(async () => {
      for (const d of databases) await d.drop();
    });

    it(`keeps every acknowledged webhook of ${N} exactly once across ${KILLS} SIGKILLs`, async () => {
      const cwd = tempDir();
      const port = await freePort();
      const testDb = await dialect.create();
      databases.push(testDb);
      writeFileSync(
        join(cwd, 'patchbay.config.json'),
        JSON.stringify({
          server: { port },
          database: { url: testDb.url },
          sources: [{ id: 'orders', verify: { scheme: 'github', secrets: [SECRET] } }],
          log: { level: 'warn' },
        }),
      );
      const bodies = Array.from({ length: N }, (_, i) => webhook(i));
      let server: ChildProcess = (await startCli(['start'], { cwd, port })).child;
      let kills = 0;
      try {
        const sending = sendAll(port, bodies, () => false);
        // Kill while the load runs, each time after some progress, then start again on the same store.
        const killer = (async () => {
          while (kills < KILLS) {
            await new Promise((r) => setTimeout(r, 300 + Math.random() * 300));
            server.kill('SIGKILL');
            await once(server, 'exit');
            kills++;
            server = (await startCli(['start'], { cwd, port })).child;
          }
        })();
        const [first] = await Promise.all([sending, killer]);
        expect(kills).toBe(KILLS);
        expect(first.acked).toBe(N);

        const db = await openDatabase(testDb.url);
        try {
          const count = async () =>
            (
              await sql<{ n: number; ids: number }>`
                select count(*) as n, count(distinct external_id) as ids from events where source = 'orders'`.execute(
                db.db,
              )
            ).rows[0]!;
          expect(await count()).toEqual({ n: N, ids: N });
          // Every event has the exact bytes that were signed.
          const sample = await sql<{
            external_id: string;
            body: Buffer;
          }>`select external_id, body from events where source = 'orders' order by external_id limit 50`.execute(
            db.db,
          );
          for (const row of sample.rows) {
            const i = Number(row.external_id.slice('delivery-'.length));
            expect(Buffer.from(row.body).toString()).toBe(bodies[i]!.body);
          }

          // The provider sends everything again: all acknowledged as duplicates, nothing stored.
          const again = await sendAll(port, bodies, () => false);
          expect(again).toMatchObject({ acked: N, duplicates: N });
          expect(await count()).toEqual({ n: N, ids: N });
          console.log(
            `ingress durability ${dialect.name}: ${N} webhooks, ${KILLS} SIGKILLs, ${first.failed} refused or failed tries retried, ` +
              `${first.duplicates} already-stored repeats during the run`,
          );
        } finally {
          await db.close();
        }
      } finally {
        if (server.exitCode === null) {
          server.kill('SIGTERM');
          await once(server, 'exit');
        }
      }
    }, 180_000);
  });
}
