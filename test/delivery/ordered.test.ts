import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { Receiver } from '../helpers/receiver.js';

const EVENTS = 16;
/** Fails twice, then succeeds: the head blocks everything behind it meanwhile. */
const FLAKY = 3;
/** Always fails: dead-lettered after its schedule, then the rest moves on. */
const BROKEN = 9;

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`ordered delivery on ${dialect.name}`, () => {
    const secret = generateWebhookSecret();
    let receiver: Receiver;
    let t: TestEngine | undefined;

    beforeAll(async () => {
      receiver = await new Receiver([secret]).start();
    });
    afterAll(async () => {
      await receiver.stop();
    });
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('keeps one delivery in flight, in event order, a failing head holding back the rest until it succeeds or is dead-lettered', async () => {
      /** Event index of every request, in arrival order, with its answer. */
      const requests: { i: number; status: number }[] = [];
      const tries = new Map<number, number>();
      let inFlight = 0;
      let maxInFlight = 0;
      receiver.behaviour = (r, res) => {
        const i = (JSON.parse(r.body) as { data: { i: number } }).data.i;
        const n = (tries.get(i) ?? 0) + 1;
        tries.set(i, n);
        const status = i === BROKEN || (i === FLAKY && n <= 2) || (i % 5 === 1 && n === 1) ? 503 : 204;
        requests.push({ i, status });
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // A short hold makes two concurrent requests overlap if the worker ever sent them.
        setTimeout(() => {
          inFlight--;
          res.writeHead(status).end();
        }, 5);
      };
      t = await openTestEngine(dialect, {
        workers: { concurrency: 8, pollInterval: '20ms' },
        destinations: [
          { id: 'app', url: receiver.url, secrets: [secret], ordered: true, events: ['api.**'] },
        ],
        delivery: {
          allowedNetworks: ['127.0.0.0/8'],
          retrySchedule: ['20ms', '40ms'],
          overloadBackoff: '20ms',
        },
      });
      const publish = (i: number) => t!.engine.publish({ type: 'order.created', payload: { i } });
      // Half the events wait before the workers start; the rest arrive while the destination drains.
      for (let i = 0; i < EVENTS / 2; i++) await publish(i);
      await t.engine.startWorkers();
      for (let i = EVENTS / 2; i < EVENTS; i++) await publish(i);

      const deadline = Date.now() + 20_000;
      for (;;) {
        const pending = await t.engine.delivery.list({ destinationId: 'app', status: 'pending', limit: 1 });
        if (pending.length === 0) break;
        if (Date.now() > deadline)
          throw new Error(`still pending; requests so far ${JSON.stringify(requests)}`);
        await new Promise((r) => setTimeout(r, 20));
      }

      expect(maxInFlight).toBe(1);
      // Requests never go back in event order: each event is tried until it is settled before the next.
      const order = requests.map((r) => r.i);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(requests.filter((r) => r.status === 204).map((r) => r.i)).toEqual(
        Array.from({ length: EVENTS }, (_, i) => i).filter((i) => i !== BROKEN),
      );
      expect(tries.get(FLAKY)).toBe(3);
      expect(tries.get(BROKEN)).toBe(3);
      const deliveries = await t.engine.delivery.list({ destinationId: 'app', limit: 100 });
      const broken = deliveries.filter((d) => d.status === 'failed');
      expect(broken).toHaveLength(1);
      expect(broken[0]).toMatchObject({ attempts: 3, lastStatus: 503 });
      // The attempts log accounts for every request: waiting behind the head cost no attempts.
      const attempts = deliveries.reduce((sum, d) => sum + d.attempts, 0);
      expect(attempts).toBe(requests.length);
    });
  });
}
