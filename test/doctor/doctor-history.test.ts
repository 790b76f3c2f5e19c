import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorClients } from '../../src/connectors/connector-clients.js';
import { readAuditHistory } from '../../src/store/audit-store.js';
import { defineSync } from '../../src/sync/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { until } from '../helpers/fixture-process.js';
import { Receiver } from '../helpers/receiver.js';

const DAY = 86_400_000;

/** Holds the event loop, as a synchronous call in a handler or transform would. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const schema = {
  safeParse: (v: unknown) => ({ success: true as const, data: v as Record<string, unknown> }),
};

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`what doctor reads from the store, on ${dialect.name}`, () => {
    const secret = generateWebhookSecret();
    let receiver: Receiver;
    let upstream: Server;
    let upstreamUrl: string;
    let t: TestEngine | undefined;
    let clock: FakeClock;

    beforeAll(async () => {
      receiver = await new Receiver([secret]).start();
      upstream = createServer(
        (_req, res) => void res.writeHead(429, { 'retry-after': '0' }).end('slow down'),
      );
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      await receiver.stop();
      await new Promise((resolve) => upstream.close(resolve));
    });
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    async function open() {
      clock = new FakeClock(Date.now());
      t = await openTestEngine(
        dialect,
        {
          sources: [{ id: 'lab', verify: { scheme: 'none', insecure: true } }],
          destinations: [{ id: 'app', url: receiver.url, secrets: [secret], events: ['api.*'] }],
          delivery: { allowedNetworks: ['127.0.0.0/8'] },
          connections: [{ id: 'crm', baseUrl: upstreamUrl, auth: { scheme: 'bearer', token: 'x' } }],
          vault: { allowedNetworks: ['127.0.0.0/8'] },
        },
        { clock },
      );
      return t;
    }
    const history = () => readAuditHistory(t!.db, clock.now() - DAY);

    it('names a handler that held the event loop over 50 ms, and not one that awaits', async () => {
      await open();
      await t!.engine.on('api.slow', () => block(80), { id: 'slow' });
      await t!.engine.on('api.quick', async () => new Promise((r) => setTimeout(r, 80)), { id: 'quick' });
      for (const type of ['quick', 'slow']) {
        const event = await t!.engine.publish({ source: 'api', type, payload: {} });
        const [delivery] = await t!.engine.delivery.list({
          eventId: event.id,
          destinationId: type,
          limit: 1,
        });
        await t!.engine.delivery.attempt(delivery!.id, new AbortController().signal);
      }
      await until('the block recorded', async () => (await history()).signals.length > 0, 10_000);
      const { signals } = await history();
      expect(signals.map((s) => [s.kind, s.subject, s.count])).toEqual([['loop_block', 'handler:slow', 1]]);
      expect(signals[0]!.max).toBeGreaterThanOrEqual(80);
      expect(await t!.engine.registry.getSingleMetricAsString('patchbay_event_loop_blocks_total')).toContain(
        'patchbay_event_loop_blocks_total{subject="handler:slow"} 1',
      );
    });

    it('names a sync whose page of transforms held the loop, and not one whose transforms are quick', async () => {
      await open();
      const page = { records: [{ id: 'a' }, { id: 'b' }] };
      for (const [id, ms] of [
        ['heavy', 40],
        ['light', 0],
      ] as const) {
        await t!.engine.syncs.define(
          defineSync({
            id,
            key: 'id',
            schema,
            transform: (raw) => {
              block(ms);
              return raw;
            },
            async *fetch() {
              yield page;
            },
          }),
        );
        expect(await t!.engine.syncs.runNow(id)).toMatchObject({ status: 'succeeded' });
      }
      // Two records of 40 ms: one page held the loop 80 ms.
      await until('the block recorded', async () => (await history()).signals.length > 0, 10_000);
      expect((await history()).signals.map((s) => [s.subject, s.count])).toEqual([['transform:heavy', 1]]);
    });

    it('counts 429s of destinations and connections, and events that came without an id', async () => {
      await open();
      receiver.behaviour = (_r, res) => void res.writeHead(429).end();
      const event = await t!.engine.publish({ source: 'api', type: 'x', payload: {} });
      const [delivery] = await t!.engine.delivery.list({ eventId: event.id, destinationId: 'app', limit: 1 });
      await t!.engine.delivery.attempt(delivery!.id, new AbortController().signal);
      receiver.behaviour = (_r, res) => void res.writeHead(200).end('ok');

      const clients = t!.engine.modules.find((m) => m.name === 'connections')!.service as ConnectorClients;
      const crm = await clients.client('crm');
      await expect(crm.request({ path: '/contacts', signal: AbortSignal.timeout(10_000) })).rejects.toThrow();

      const post = (headers: Record<string, string>, body: string) =>
        t!.app.inject({
          method: 'POST',
          url: '/webhooks/lab',
          headers: { 'content-type': 'application/json', ...headers },
          payload: body,
        });
      expect((await post({}, '{"type":"a"}')).statusCode).toBeLessThan(300);
      expect((await post({}, '{"type":"b"}')).statusCode).toBeLessThan(300);
      expect((await post({ 'webhook-id': 'evt_1' }, '{"type":"c"}')).statusCode).toBeLessThan(300);

      await until('the 429s recorded', async () => (await history()).signals.length > 0, 10_000);
      const found = await history();
      expect(found.destination429s).toEqual([{ destination: 'app', count: 1 }]);
      expect(found.signals.map((s) => [s.kind, s.subject])).toEqual([['rate_limited', 'connection:crm']]);
      // Retried within the call: every attempt answered 429 is one signal.
      expect(found.signals[0]!.count).toBeGreaterThanOrEqual(1);
      expect(found.eventsWithoutId).toEqual([{ source: 'lab', count: 2 }]);
      // History older than the window is not read.
      expect(await readAuditHistory(t!.db, clock.now() + 60_000)).toMatchObject({
        eventsWithoutId: [],
        destination429s: [],
        signals: [],
      });
    });
  });
}
