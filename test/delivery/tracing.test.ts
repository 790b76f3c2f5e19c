import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { formatKey, generateKey } from '../../src/vault/index.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { startCollector } from '../helpers/otlp-collector.js';
import { Receiver } from '../helpers/receiver.js';

const SENDER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SENDER_SPAN = '00f067aa0ba902b7';

describe('tracing', () => {
  const inbound = `whsec_${Buffer.from('s'.repeat(32)).toString('base64')}`;
  const outbound = generateWebhookSecret();
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await new Receiver([outbound]).start();
  });
  afterAll(() => receiver.stop());

  async function open(env: Record<string, string>): Promise<{ t: TestEngine; clock: FakeClock }> {
    const clock = new FakeClock(Date.now());
    const t = await openTestEngine(
      dialects[0]!,
      {
        sources: [{ id: 'shop', verify: { scheme: 'standard-webhooks', secrets: [inbound] } }],
        destinations: [{ id: 'hook', url: receiver.url, secrets: [outbound] }],
        delivery: { allowedNetworks: ['127.0.0.0/8'] },
      },
      { clock, env: { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()), ...env } },
    );
    return { t, clock };
  }

  /** A signed webhook from a sender that is itself traced; then the delivery: a 500, then a 200. */
  async function receiveAndDeliver(t: TestEngine, clock: FakeClock): Promise<string> {
    const payload = JSON.stringify({ type: 'order.created', data: { id: 7 } });
    const signed = new Webhook(inbound).sign('msg_1', new Date(clock.now()), payload);
    const answer = await t.app.inject({
      method: 'POST',
      url: '/webhooks/shop',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(Math.floor(clock.now() / 1000)),
        'webhook-signature': signed,
        traceparent: `00-${SENDER_TRACE}-${SENDER_SPAN}-01`,
      },
      payload,
    });
    expect(answer.statusCode).toBeLessThan(300);
    const [delivery] = await t.engine.delivery.list({ destinationId: 'hook', limit: 10 });
    expect(delivery).toBeDefined();
    let calls = 0;
    receiver.behaviour = (_req, res) => {
      calls++;
      res.writeHead(calls === 1 ? 500 : 200).end(calls === 1 ? 'down' : 'ok');
    };
    const first = await t.engine.delivery.attempt(delivery!.id, new AbortController().signal);
    expect(first && 'retryAt' in first).toBe(true);
    await clock.advance(24 * 3600_000);
    await t.engine.delivery.attempt(delivery!.id, new AbortController().signal);
    expect((await t.engine.delivery.get(delivery!.id))?.status).toBe('succeeded');
    return delivery!.id;
  }

  it('shows a webhook delivered after one failed attempt as one trace, and the destination continues it', async () => {
    const collector = await startCollector();
    try {
      const { t, clock } = await open({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
      receiver.received.length = 0;
      await receiveAndDeliver(t, clock);
      await t.close(); // flushes the spans
      const spans = collector.spans;
      const names = spans.map((s) => s.name).sort();
      expect(names).toEqual(
        [
          'POST /webhooks/:sourceId',
          'deliver hook',
          'deliver hook',
          'route',
          'webhook persist',
          'webhook verify',
        ].sort(),
      );
      // One trace: the sender's, continued by the ingress and joined by routing and both attempts.
      expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([SENDER_TRACE]));
      const server = spans.find((s) => s.name.startsWith('POST'))!;
      expect(server.parentSpanId).toBe(SENDER_SPAN);
      for (const s of spans.filter((x) => x !== server)) expect(s.parentSpanId).toBe(server.spanId);
      // The destination saw a traceparent of that trace: each attempt's own span.
      const attempts = spans.filter((s) => s.name === 'deliver hook').map((s) => s.spanId);
      const seen = receiver.received.map((r) => String(r.headers.traceparent));
      expect(seen).toHaveLength(2);
      expect(seen.map((p) => p.split('-')[1])).toEqual([SENDER_TRACE, SENDER_TRACE]);
      expect(seen.map((p) => p.split('-')[2]).sort()).toEqual([...attempts].sort());
    } finally {
      collector.server.close();
    }
  }, 60_000);

  it('is off without an endpoint: no traceparent is sent or stored', async () => {
    const { t, clock } = await open({});
    try {
      receiver.received.length = 0;
      await receiveAndDeliver(t, clock);
      expect(receiver.received.map((r) => r.headers.traceparent)).toEqual([undefined, undefined]);
      const rows = await t.db.db.selectFrom('events').select('trace_parent').execute();
      expect(rows.map((r) => r.trace_parent)).toEqual([null]);
    } finally {
      await t.close();
    }
  }, 60_000);
});
