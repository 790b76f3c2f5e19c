import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { Receiver } from '../helpers/receiver.js';

const EVENTS = 296;

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`a receiver failing every first attempt, on ${dialect.name}`, () => {
    const secret = generateWebhookSecret();
    let receiver: Receiver;
    let t: TestEngine;

    beforeAll(async () => {
      receiver = await new Receiver([secret]).start();
      t = await openTestEngine(dialect, {
        destinations: [{ id: 'app', url: receiver.url, secrets: [secret] }],
        workers: { concurrency: 16, pollInterval: '50ms' },
        // The schedule: 1 s, 1 s, 2 s, 2 s.
        delivery: { allowedNetworks: ['127.0.0.0/8'], retrySchedule: ['1s', '1s', '2s', '2s'] },
      });
    });
    afterAll(async () => {
      await t?.close();
      await receiver?.stop();
    });

    it('is fed every event through the running queue, its breaker never opening (it got 5 of 296 in 90 s)', async () => {
      const seen = new Set<string>();
      receiver.behaviour = (r, res) => {
        const first = !seen.has(r.webhookId);
        seen.add(r.webhookId);
        res.writeHead(first ? 503 : 200).end();
      };
      for (let i = 0; i < EVENTS; i++) await t.engine.publish({ type: 'order.created', payload: { i } });
      const started = Date.now();
      await t.engine.startWorkers();
      let delivered = 0;
      while (Date.now() - started < 60_000) {
        const rows = await t.db.db
          .selectFrom('deliveries')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', '=', 'succeeded')
          .executeTakeFirstOrThrow();
        delivered = Number(rows.n);
        if (delivered === EVENTS) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const tookMs = Date.now() - started;
      console.log(`${delivered} of ${EVENTS} delivered in ${tookMs} ms`);
      expect(delivered).toBe(EVENTS);
      const opened = await t.engine.events.list({
        source: 'patchbay',
        type: 'destination.circuit_opened',
        limit: 10,
      });
      expect(opened).toHaveLength(0);
      // Each event was refused once and accepted once; nothing was dead-lettered.
      expect(seen.size).toBe(EVENTS);
    }, 90_000);
  });
}
