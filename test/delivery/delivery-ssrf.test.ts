import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildConnector } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PatchbayConfigInput } from '../../src/core/config/schema.js';
import type { Connector, ResolvedAddress } from '../../src/http/ssrf/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { Receiver } from '../helpers/receiver.js';

/**
 * The SSRF guard as deliveries meet it. Only 127.0.0.1/32 is allowed; a "trap" server listens on
 * 127.0.0.2, which is loopback and so blocked: if the guard ever let a blocked address through, the trap
 * would count the connection. The injected connector records every address dialled and refuses anything
 * but 127.0.0.1, so no test can reach beyond this machine even if the guard were broken.
 */
for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`delivery SSRF guard on ${dialect.name}`, () => {
    const secret = generateWebhookSecret();
    let receiver: Receiver;
    let trap: Server;
    let trapPort: number;
    let trapConnections = 0;
    let t: TestEngine | undefined;
    const dialled: string[] = [];
    const dns = new Map<string, ResolvedAddress[]>();
    const realConnect = buildConnector({});
    const connect: Connector = (options, callback) => {
      dialled.push(options.hostname);
      if (options.hostname !== '127.0.0.1') {
        callback(new Error(`test connector refuses to dial ${options.hostname}`), null);
        return;
      }
      realConnect(options, callback);
    };

    beforeAll(async () => {
      receiver = await new Receiver([secret]).start();
      trap = createServer((_req, res) => res.writeHead(200).end('should never be reached'));
      trap.on('connection', () => trapConnections++);
      await new Promise<void>((resolve) => trap.listen(0, '127.0.0.2', resolve));
      trapPort = (trap.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await receiver.stop();
      trap.closeAllConnections();
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    });
    afterEach(async () => {
      await t?.close();
      t = undefined;
      dialled.length = 0;
      dns.clear();
      receiver.received.length = 0;
      receiver.behaviour = (_r, res) => void res.writeHead(200).end('ok');
    });

    async function open(url: string, delivery: PatchbayConfigInput['delivery'] = {}) {
      t = await openTestEngine(
        dialect,
        {
          destinations: [
            { id: 'app', url, secrets: [secret], breaker: { consecutiveFailures: 2, halfOpenAfter: '1h' } },
          ],
          delivery: { allowedNetworks: ['127.0.0.1/32'], ...delivery },
        },
        {
          clock: new FakeClock(Date.now()),
          network: {
            resolver: async (hostname) => {
              const answer = dns.get(hostname);
              if (!answer) throw new Error(`ENOTFOUND ${hostname}`);
              return answer;
            },
            connect,
          },
        },
      );
    }

    /** Publishes one event and runs its delivery's first attempt; returns the delivery and attempt rows. */
    async function deliverOnce() {
      const event = await t!.engine.publish({ type: 'order.created', payload: {} });
      const [delivery] = await t!.engine.delivery.list({ eventId: event.id, limit: 2 });
      const outcome = await t!.engine.delivery.attempt(delivery!.id, new AbortController().signal);
      return { id: delivery!.id, outcome, attempts: await t!.engine.delivery.attempts(delivery!.id) };
    }

    const blocked: [string, () => string, string][] = [
      [
        'a literal loopback address outside allowedNetworks',
        () => `http://127.0.0.2:${trapPort}/hooks`,
        '127.0.0.2',
      ],
      ['a literal private address', () => 'https://10.1.2.3/hooks', '10.1.2.3'],
      ['the cloud metadata address', () => 'https://169.254.169.254/latest/meta-data/', '169.254.169.254'],
      [
        'an IPv4-mapped IPv6 literal',
        () => `http://[::ffff:127.0.0.2]:${trapPort}/hooks`,
        '127.0.0.2', // judged, and reported, as the IPv4 address it is
      ],
      ['an IPv4-mapped IPv6 metadata literal', () => 'https://[::ffff:a9fe:a9fe]/latest', '169.254.169.254'],
    ];
    for (const [what, url, address] of blocked) {
      it(`never connects to ${what}, and logs a failed attempt with SSRF_BLOCKED`, async () => {
        await open(url());
        const { outcome, attempts } = await deliverOnce();
        expect(outcome).toMatchObject({ retryAt: expect.any(Number) });
        expect(attempts).toMatchObject([{ outcome: 'failed', errorCode: 'SSRF_BLOCKED', statusCode: null }]);
        expect(attempts[0]!.errorMessage).toContain(address);
        expect(dialled).toEqual([]);
        expect(trapConnections).toBe(0);
      });
    }

    const resolving: [string, ResolvedAddress[], string][] = [
      ['a private address', [{ address: '10.0.0.7', family: 4 }], '10.0.0.7'],
      ['a loopback address outside allowedNetworks', [{ address: '127.0.0.2', family: 4 }], '127.0.0.2'],
      ['an IPv4-mapped IPv6 address', [{ address: '::ffff:127.0.0.2', family: 6 }], '127.0.0.2'],
      [
        'a public and a private address (round robin)',
        [
          { address: '127.0.0.1', family: 4 },
          { address: '192.168.1.20', family: 4 },
        ],
        '192.168.1.20',
      ],
    ];
    for (const [what, answer, address] of resolving) {
      it(`never connects to a DNS name resolving to ${what}`, async () => {
        dns.set('hooks.customer.test', answer);
        await open(`http://hooks.customer.test:${trapPort}/hooks`, {
          // plain http to a name is only allowed where every address is inside allowedNetworks
          allowedNetworks: ['127.0.0.1/32'],
        });
        const { attempts } = await deliverOnce();
        expect(attempts).toMatchObject([{ outcome: 'failed', errorCode: 'SSRF_BLOCKED' }]);
        expect(attempts[0]!.errorMessage).toMatch(
          new RegExp(`hooks\\.customer\\.test resolves to ${address}`),
        );
        expect(dialled).toEqual([]);
        expect(trapConnections).toBe(0);
      });
    }

    it('retries a blocked destination on the schedule (DNS may change), without tripping its breaker', async () => {
      dns.set('hooks.customer.test', [{ address: '127.0.0.2', family: 4 }]);
      const port = Number(new URL(receiver.url).port);
      await open(`http://hooks.customer.test:${port}/hooks`, { retrySchedule: ['1s', '1s', '1s'] });
      const event = await t!.engine.publish({ type: 'order.created', payload: {} });
      const [delivery] = await t!.engine.delivery.list({ eventId: event.id, limit: 2 });
      const clock = t!.engine.clock as FakeClock;
      for (let i = 0; i < 3; i++) {
        const outcome = (await t!.engine.delivery.attempt(delivery!.id, new AbortController().signal)) as {
          retryAt: number;
          deferred?: boolean;
        };
        // Three failures in a row with consecutiveFailures: 2, yet never deferred: no connection was made,
        // so nothing was learnt about the receiver.
        expect(outcome.deferred).toBeUndefined();
        clock.set(outcome.retryAt);
      }
      expect(t!.engine.delivery.destinations.breakerState('app')).toBe('closed');
      // The name now points at the allowed receiver: the next scheduled attempt goes through.
      dns.set('hooks.customer.test', [{ address: '127.0.0.1', family: 4 }]);
      expect(await t!.engine.delivery.attempt(delivery!.id, new AbortController().signal)).toBeUndefined();
      const attempts = await t!.engine.delivery.attempts(delivery!.id);
      expect(attempts.map((a) => a.errorCode)).toEqual([
        'SSRF_BLOCKED',
        'SSRF_BLOCKED',
        'SSRF_BLOCKED',
        null,
      ]);
      expect(receiver.received).toHaveLength(1);
      // Connected to the checked address, yet the request names the destination's host (undici writes it).
      expect(receiver.received[0]!.headers.host).toBe(`hooks.customer.test:${port}`);
      expect(dialled).toEqual(['127.0.0.1']);
      expect(trapConnections).toBe(0);
    });

    it('does not follow a redirect to a blocked address', async () => {
      await open(receiver.url);
      receiver.behaviour = (_r, res) =>
        void res.writeHead(307, { location: `http://127.0.0.2:${trapPort}/hooks` }).end();
      const { outcome, attempts } = await deliverOnce();
      expect(outcome).toMatchObject({ retryAt: expect.any(Number) });
      expect(attempts).toMatchObject([{ outcome: 'failed', statusCode: 307, errorCode: 'HTTP_REDIRECT' }]);
      expect(attempts[0]!.errorMessage).toMatch(/not followed/);
      expect(receiver.received).toHaveLength(1);
      expect(dialled).toEqual(['127.0.0.1']);
      expect(trapConnections).toBe(0);
    });

    it('refuses plain http to an address outside allowedNetworks with INSECURE_URL', async () => {
      dns.set('hooks.customer.test', [{ address: '93.184.215.14', family: 4 }]);
      await open('http://hooks.customer.test/hooks');
      const { attempts } = await deliverOnce();
      expect(attempts).toMatchObject([{ outcome: 'failed', errorCode: 'INSECURE_URL' }]);
      expect(dialled).toEqual([]);
    });
  });
}
