import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { ChaosReceiver } from '../helpers/chaos-receiver.js';
import { freePort, startCli, tempDir } from '../helpers/cli.js';
import { allDialects, type TestDatabase } from '../helpers/databases.js';

const EVENTS = Number(process.env.CHAOS_EVENTS ?? 10_000);
const TOKEN = 'chaos-admin-token-0123456789';

function config(port: number, databaseUrl: string, receiverUrl: string, secret: string): string {
  return JSON.stringify({
    server: { port, adminToken: TOKEN },
    database: { url: databaseUrl },
    workers: { concurrency: 64, pollInterval: '100ms', lease: '5s', shutdownGrace: '1s' },
    destinations: [
      {
        id: 'app',
        url: receiverUrl,
        secrets: [secret],
        // Hangs end at this timeout; 500 ms is still 100× a normal answer here, so a slow 2xx is not
        // mistaken for a hang (which the receiver would see as a duplicate).
        timeout: '500ms',
        events: ['api.**'],
        // A count-based breaker (the default is a failure rate, which this receiver never reaches) with a
        // short open period: runs of failures (they come in bursts under load) trip it now and then, so
        // deferrals under load are exercised too; the log line counts the trips.
        breaker: { consecutiveFailures: 10, halfOpenAfter: '100ms' },
      },
    ],
    delivery: {
      // The production schedule, scaled down from hours to milliseconds.
      retrySchedule: ['20ms', '50ms', '100ms', '200ms', '300ms', '500ms', '1s', '1s', '2s', '2s', '2s', '2s'],
      overloadBackoff: '50ms',
      allowedNetworks: ['127.0.0.0/8'],
    },
    log: { level: 'warn' },
  });
}

async function publishAll(port: number, count: number): Promise<string[]> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 32 });
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        const i = next++;
        const res = await pool.request({
          method: 'POST',
          path: '/api/v1/events',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'order.created', payload: { i }, idempotencyKey: `order-${i}` }),
        });
        const body = (await res.body.json()) as { id: string };
        if (res.statusCode !== 201 && res.statusCode !== 200)
          throw new Error(`publish answered ${res.statusCode}`);
        ids[i] = body.id;
      }
    }),
  );
  await pool.close();
  return ids;
}

async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`chaos delivery on ${dialect.name}`, () => {
    const secret = generateWebhookSecret();
    let receiver: ChaosReceiver | undefined;
    const databases: TestDatabase[] = [];

    afterAll(async () => {
      await receiver?.stop();
      for (const d of databases) await d.drop();
    });

    for (const kill of [false, true]) {
      it(`delivers ${EVENTS} events through a misbehaving receiver exactly once each${kill ? ', with Patchbay SIGKILLed mid-run' : ''}`, async () => {
        await receiver?.stop();
        const chaos = await new ChaosReceiver({ failureRate: 0.2, secret, seed: kill ? 7 : 3 }).start();
        receiver = chaos;
        const cwd = tempDir();
        const port = await freePort();
        const testDb = await dialect.create();
        databases.push(testDb);
        const databaseUrl = testDb.url;
        writeFileSync(join(cwd, 'patchbay.config.json'), config(port, databaseUrl, chaos.url, secret));
        let server: ChildProcess = (await startCli(['start'], { cwd, port })).child;
        const started = Date.now();
        const ids = await publishAll(port, EVENTS);
        const publishedMs = Date.now() - started;

        let inflightAtKill = 0;
        if (kill) {
          await waitUntil(() => chaos.processed.size >= EVENTS * 0.3, 120_000, '30% delivered');
          const before = chaos.requests;
          server.kill('SIGKILL');
          await once(server, 'exit');
          // Requests the dead process had sent but not recorded: answered by the receiver after death.
          await new Promise((r) => setTimeout(r, 400));
          inflightAtKill = chaos.requests - before;
          server = (await startCli(['start'], { cwd, port })).child;
        }

        await waitUntil(() => chaos.processed.size >= EVENTS, 240_000, 'every event processed');
        const processedMs = Date.now() - started;
        const db = await openDatabase(databaseUrl);
        try {
          await waitUntil(
            async () => {
              const row = await sql<{
                n: number;
              }>`select count(*) as n from deliveries where status = 'succeeded'`.execute(db.db);
              return Number(row.rows[0]!.n) === EVENTS;
            },
            60_000,
            'every delivery recorded as succeeded',
          );
          server.kill('SIGTERM');
          await once(server, 'exit');
          const trips = Number(
            (
              await sql<{
                n: number;
              }>`select count(*) as n from events where source = 'patchbay' and type = 'destination.circuit_opened'`.execute(
                db.db,
              )
            ).rows[0]!.n,
          );

          console.log(
            `chaos ${dialect.name}${kill ? ' (SIGKILL)' : ''}: ${EVENTS} events in ${Date.now() - started} ms ` +
              `(published by ${publishedMs} ms, all processed by ${processedMs} ms), ` +
              `${chaos.requests} requests, outcomes ${JSON.stringify(chaos.outcomes)}, receiver-side duplicates ${chaos.duplicates}, breaker trips ${trips}`,
          );
          // Every acknowledged event was delivered, and the receiver processed each exactly once.
          expect([...chaos.processed.keys()].sort()).toEqual([...ids].sort());
          expect(chaos.badSignatures).toBe(0);
          expect(
            chaos.outcomes['503']! + chaos.outcomes['429']! + chaos.outcomes.hang! + chaos.outcomes.reset!,
          ).toBeGreaterThan(0);
          if (!kill) expect(chaos.duplicates).toBe(0);

          // The attempts log accounts for every try.
          const attempts = Number(
            (await sql<{ n: number }>`select count(*) as n from delivery_attempts`.execute(db.db)).rows[0]!.n,
          );
          const counted = Number(
            (await sql<{ n: number }>`select sum(attempts) as n from deliveries`.execute(db.db)).rows[0]!.n,
          );
          expect(attempts).toBe(counted);
          if (kill) {
            expect(attempts).toBeLessThanOrEqual(chaos.requests);
            expect(chaos.requests - attempts).toBeLessThanOrEqual(inflightAtKill + 64);
          } else {
            expect(attempts).toBe(chaos.requests);
          }
          const failedTries = Number(
            (
              await sql<{
                n: number;
              }>`select count(*) as n from delivery_attempts where outcome = 'failed'`.execute(db.db)
            ).rows[0]!.n,
          );
          expect(failedTries).toBeGreaterThan(0);
        } finally {
          await db.close();
          if (server.exitCode === null) server.kill('SIGKILL');
        }
      }, 400_000);
    }
  });
}
