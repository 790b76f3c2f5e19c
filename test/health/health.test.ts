import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorClients } from '../../src/connectors/connector-clients.js';
import type { HealthService } from '../../src/health/health-service.js';
import { TrafficStore } from '../../src/store/traffic-store.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { formatKey, generateKey } from '../../src/vault/index.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { openPeerEngine, openTestEngine, type TestEngine } from '../helpers/engine.js';
import { githubRequest } from '../helpers/github-request.js';
import { Receiver } from '../helpers/receiver.js';

const MINUTE = 60_000;

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`integration health on ${dialect.name}`, () => {
    const secret = generateWebhookSecret();
    let app: Receiver;
    let alerts: Receiver;
    let t: TestEngine | undefined;

    beforeAll(async () => {
      app = await new Receiver([secret]).start();
      alerts = await new Receiver([secret]).start();
    });
    afterAll(async () => {
      await app.stop();
      await alerts.stop();
    });
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('a destination that starts failing moves its score down, then back up; each crossing reaches the alert destination', async () => {
      const clock = new FakeClock(Date.now());
      t = await openTestEngine(
        dialect,
        {
          destinations: [
            { id: 'app', url: app.url, secrets: [secret], events: ['api.*'] },
            // A Slack incoming webhook's shape: {"text": …}.
            {
              id: 'alerts',
              url: alerts.url,
              secrets: [secret],
              events: ['patchbay.health.*'],
              format: 'slack',
            },
          ],
          delivery: { allowedNetworks: ['127.0.0.0/8'] },
        },
        { clock },
      );
      const engine = t.engine;
      const health = engine.modules.find((m) => m.name === 'health')!.service as HealthService;
      const signal = new AbortController().signal;
      /** Publishes `n` events for `app` and makes each one's first attempt. */
      const deliver = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const event = await engine.publish({ source: 'api', type: 'order.created', payload: { i } });
          const [delivery] = await engine.delivery.list({
            eventId: event.id,
            destinationId: 'app',
            limit: 1,
          });
          await engine.delivery.attempt(delivery!.id, signal);
        }
      };
      /** Delivers the alerts published so far; returns their texts. */
      const deliverAlerts = async () => {
        const pending = await engine.delivery.list({ destinationId: 'alerts', status: 'pending', limit: 50 });
        for (const d of pending) await engine.delivery.attempt(d.id, signal);
        return alerts.received.map((r) => {
          const body = JSON.parse(r.body) as Record<string, unknown>;
          expect(Object.keys(body)).toEqual(['text']);
          return body.text as string;
        });
      };
      const appHealth = async () => (await health.status()).destinations.find((d) => d.id === 'app')!;

      await deliver(10);
      expect(await appHealth()).toMatchObject({
        score: 100,
        status: 'healthy',
        inputs: { attempts: 10, successRate: 1 },
      });
      await health.watch();
      expect(await deliverAlerts()).toEqual([]);

      app.behaviour = (_r, res) => void res.writeHead(503).end();
      await clock.advance(16 * MINUTE); // the successes leave the 15-minute window
      await deliver(10);
      const failing = await appHealth();
      expect(failing.status).toBe('failing');
      expect(failing.score).toBeLessThan(50);
      expect(failing.reasons).toContain('-60: 10 of the last 10 attempts failed');
      await health.watch();
      expect(await deliverAlerts()).toEqual([
        expect.stringMatching(
          /^Patchbay: destination "app" is failing \(score \d+, was healthy\): -60: 10 of the last 10 attempts failed/,
        ),
      ]);
      // Watching again without a change publishes nothing more.
      await health.watch();
      expect(await deliverAlerts()).toHaveLength(1);
      const metrics = await engine.registry.getSingleMetricAsString('patchbay_health_score');
      expect(metrics).toContain(`patchbay_health_score{kind="destination",id="app"} ${failing.score}`);
      expect(metrics).toContain('patchbay_health_score{kind="destination",id="alerts"} 100');

      app.behaviour = (_r, res) => void res.writeHead(200).end('ok');
      await clock.advance(16 * MINUTE); // past the breaker's half-open delay and the window
      await deliver(10);
      expect(await appHealth()).toMatchObject({ score: 100, status: 'healthy' });
      await health.watch();
      const texts = await deliverAlerts();
      expect(texts).toHaveLength(2);
      expect(texts[1]).toBe('Patchbay: destination "app" is healthy (score 100, was failing)');
      const recovered = (
        await engine.events.list({ source: 'patchbay', type: 'health.recovered', limit: 5 })
      )[0]!;
      expect(recovered).toBeDefined();

      const answer = await t.app.inject({ method: 'GET', url: '/api/v1/status' });
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ status: 'healthy', score: 100, connections: [], syncs: [] });
    });

    it("a source that starts refusing bad signatures drops and recovers, scored by another process from the first one's traffic", async () => {
      const clock = new FakeClock(Date.now());
      const sources = [{ id: 'gh', verify: { scheme: 'github' as const, secrets: ['right'] } }];
      const env = { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) };
      t = await openTestEngine(dialect, { sources }, { clock, env });
      // The scorer is another process: it sees the ingress's counts only through the store.
      const peer = await openPeerEngine(t, { sources }, env, { clock });
      const health = peer.engine.modules.find((m) => m.name === 'health')!.service as HealthService;
      let n = 0;
      const send = async (count: number, secret: string) => {
        for (let i = 0; i < count; i++) {
          const answer = await t!.app.inject({ url: '/webhooks/gh', ...githubRequest(secret, `d-${n++}`) });
          expect(answer.statusCode).toBe(secret === 'right' ? 200 : 401);
        }
      };
      /** The source as the peer scores it once the ingress's 10-second flush has run. */
      const scored = async (expected: number) => {
        await clock.advance(10_000);
        for (let i = 0; i < 100; i++) {
          const gh = (await health.status()).sources.find((s) => s.id === 'gh')!;
          if (gh.inputs.requests === expected) return gh;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`the peer never saw ${expected} requests`);
      };
      const events = async (type: string) =>
        (await peer.engine.events.list({ source: 'patchbay', type, limit: 5 })).map((e) =>
          JSON.parse(e.body.toString()),
        );
      try {
        expect((await health.status()).sources).toMatchObject([
          {
            kind: 'source',
            id: 'gh',
            score: 100,
            status: 'healthy',
            inputs: { requests: 0, acceptRate: null },
          },
        ]);
        await send(10, 'right');
        expect(await scored(10)).toMatchObject({ score: 100, inputs: { acceptRate: 1, refused: 0 } });
        await health.watch();

        await clock.advance(16 * MINUTE); // the accepted requests leave the 15-minute window
        await send(10, 'rotated-by-the-sender');
        const failing = await scored(10);
        expect(failing).toMatchObject({
          score: 40,
          status: 'failing',
          reasons: ['-60: 10 of the last 10 requests refused (SIGNATURE_INVALID 10)'],
          inputs: { acceptRate: 0, refused: 10, 'refused.SIGNATURE_INVALID': 10 },
        });
        expect(failing.inputs.lastAcceptedAt).toBeNull();
        await health.watch();
        expect(await events('health.failing')).toMatchObject([
          { kind: 'source', id: 'gh', from: 'healthy', to: 'failing', score: 40 },
        ]);
        const metrics = await peer.engine.registry.getSingleMetricAsString('patchbay_health_score');
        expect(metrics).toContain('patchbay_health_score{kind="source",id="gh"} 40');

        await clock.advance(16 * MINUTE);
        await send(9, 'right');
        await send(1, 'wrong');
        expect(await scored(10)).toMatchObject({
          score: 94,
          status: 'healthy',
          reasons: ['-6: 1 of the last 10 requests refused (SIGNATURE_INVALID 1)'],
        });
        await health.watch();
        expect(await events('health.recovered')).toMatchObject([
          { kind: 'source', id: 'gh', from: 'failing', to: 'healthy' },
        ]);
        const answer = await peer.app.inject({ method: 'GET', url: '/api/v1/status' });
        expect(answer.json()).toMatchObject({ status: 'healthy', sources: [{ id: 'gh', score: 94 }] });
      } finally {
        await peer.app.close();
        await peer.engine.stop();
      }
    });

    it('scores a connection by its auth status and its 429s in the last hour, counted by every process', async () => {
      t = await openTestEngine(dialect, {
        connections: [
          { id: 'crm', baseUrl: 'https://crm.example.com', auth: { scheme: 'bearer', token: 'x' } },
        ],
      });
      const health = t.engine.modules.find((m) => m.name === 'health')!.service as HealthService;
      expect((await health.status()).connections).toMatchObject([
        { id: 'crm', score: 100, status: 'healthy', inputs: { auth: 'active', rateLimited: 0, calls: 0 } },
      ]);
      // Two other processes' 429s this minute, and one's two hours ago.
      const now = Date.now();
      const store = new TrafficStore(t.db);
      const limited = (n: number, at: number) => ({
        kind: 'connection' as const,
        subject: 'crm',
        minute: Math.floor(at / MINUTE),
        ok: 0,
        failed: 0,
        limited: n,
        reasons: {},
        buckets: [n, 0, 0, 0, 0, 0, 0, 0, 0],
        durationMax: 5,
        lastOkAt: null,
        headroom: null,
        headroomAt: null,
      });
      await store.upsert('p1', [limited(2, now)]);
      await store.upsert('p2', [limited(1, now), limited(4, now - 2 * 3_600_000)]);
      expect((await health.status()).connections).toMatchObject([
        {
          id: 'crm',
          score: 85,
          reasons: ['-15: 3 calls answered 429 in the last hour'],
          inputs: { rateLimited: 3, calls: 3, successRate: 0 },
        },
      ]);
    });

    it('a connection whose calls fail, whose breaker opens and whose quota runs out drops and recovers, scored by another process', async () => {
      const clock = new FakeClock(Date.now());
      let answer: { status: number; remaining: string } = { status: 200, remaining: '4000' };
      const upstream = createServer((_req, res) => {
        res
          .writeHead(answer.status, {
            'x-ratelimit-remaining': answer.remaining,
            'x-ratelimit-limit': '5000',
          })
          .end('{}');
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const config = {
        connections: [
          {
            id: 'crm',
            baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
            auth: { scheme: 'bearer' as const, token: 'x' },
          },
        ],
        vault: { allowedNetworks: ['127.0.0.0/8'] },
      };
      const env = { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) };
      t = await openTestEngine(dialect, config, { clock, env });
      const peer = await openPeerEngine(t, config, env, { clock });
      const health = peer.engine.modules.find((m) => m.name === 'health')!.service as HealthService;
      const clients = t.engine.modules.find((m) => m.name === 'connections')!.service as ConnectorClients;
      const crm = await clients.client('crm');
      /** Makes a call, moving the clock through its retries' waits; true when it succeeded. */
      const call = async () => {
        let settled = false;
        const result = crm.request({ path: '/contacts' }).then(
          () => true,
          () => false,
        );
        void result.finally(() => {
          settled = true;
        });
        while (!settled) {
          await clock.advance(100);
          await new Promise((r) => setTimeout(r, 1));
        }
        return result;
      };
      /** The connection as the peer scores it once this process's 10-second flush has run. */
      const scored = async (calls: number) => {
        await clock.advance(10_000);
        for (let i = 0; i < 200; i++) {
          const crmHealth = (await health.status()).connections[0]!;
          if (crmHealth.inputs.calls === calls) return crmHealth;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`the peer never saw ${calls} calls`);
      };
      const events = async (type: string) =>
        (await peer.engine.events.list({ source: 'patchbay', type, limit: 5 })).map((e) =>
          JSON.parse(e.body.toString()),
        );
      try {
        for (let i = 0; i < 10; i++) expect(await call()).toBe(true);
        expect(await scored(10)).toMatchObject({
          score: 100,
          inputs: { successRate: 1, breaker: 'closed', headroom: 0.8 },
        });
        await health.watch();

        await clock.advance(16 * MINUTE); // the successes leave the window
        answer = { status: 503, remaining: '4000' };
        // Two calls of three attempts: the fifth failure in a row opens the breaker, which refuses the sixth.
        expect(await call()).toBe(false);
        expect(await call()).toBe(false);
        const failing = await scored(5);
        expect(failing).toMatchObject({
          score: 30,
          status: 'failing',
          reasons: ['-40: 5 of the last 5 calls failed (HTTP_503 5)', '-30: the circuit breaker is open'],
          inputs: { successRate: 0, breaker: 'open' },
        });
        await health.watch();
        expect(await events('health.failing')).toMatchObject([
          { kind: 'connection', id: 'crm', from: 'healthy', to: 'failing', score: 30 },
        ]);

        // Answering again, with the quota spent: the probe closes the breaker.
        answer = { status: 200, remaining: '0' };
        await clock.advance(16 * MINUTE);
        expect(await call()).toBe(true);
        expect(await scored(1)).toMatchObject({
          score: 75,
          status: 'degraded',
          reasons: ['-25: no rate-limit quota left (as the provider last said)'],
          inputs: { breaker: 'closed', headroom: 0 },
        });
        await health.watch();
        expect(await events('health.degraded')).toMatchObject([
          { kind: 'connection', id: 'crm', from: 'failing' },
        ]);

        answer = { status: 200, remaining: '4500' };
        for (let i = 0; i < 5; i++) expect(await call()).toBe(true);
        expect(await scored(6)).toMatchObject({ score: 100, status: 'healthy', inputs: { headroom: 0.9 } });
        await health.watch();
        expect(await events('health.recovered')).toMatchObject([
          { kind: 'connection', id: 'crm', from: 'degraded', to: 'healthy' },
        ]);
      } finally {
        await peer.app.close();
        await peer.engine.stop();
        await new Promise((resolve) => upstream.close(resolve));
      }
    });
  });
}
