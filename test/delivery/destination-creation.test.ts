import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { adminApi, openTestEngine, type TestEngine } from '../helpers/engine.js';
import { Receiver } from '../helpers/receiver.js';

const TOKEN = 'creation-admin-token-0123456789';

// What names resolve to here: the test decides, and nothing leaves the machine.
const DNS: Record<string, string> = { 'example.com': '93.184.216.34', 'receiver.test': '127.0.0.1' };

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`creating destinations on ${dialect.name}`, () => {
    let t: TestEngine;
    let api: ReturnType<typeof adminApi>;
    beforeAll(async () => {
      t = await openTestEngine(
        dialect,
        { server: { adminToken: TOKEN }, delivery: { allowedNetworks: ['127.0.0.0/8'] } },
        {
          network: {
            resolver: async (hostname) => {
              const address = DNS[hostname];
              if (!address) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
              return [{ address, family: 4 }];
            },
          },
        },
      );
      api = adminApi(t.app, TOKEN);
    });
    afterAll(() => t?.close());

    it('gives a destination made without a secret a generated one, shown once and readable by an admin', async () => {
      const created = await api('POST', '/destinations', {
        id: 'nosecret',
        url: 'https://hooks.example.net/in',
      });
      expect(created.statusCode).toBe(201);
      const { secret, secrets } = created.json() as { secret: string; secrets: number };
      expect(secrets).toBe(1);
      expect(secret).toMatch(/^whsec_/);
      const bytes = decodeWebhookSecret(secret, 'secret').length;
      expect(bytes).toBeGreaterThanOrEqual(24);
      expect(bytes).toBeLessThanOrEqual(64);
      // Not again in any other answer…
      expect((await api('GET', '/destinations/nosecret')).body).not.toContain(secret);
      expect((await api('GET', '/destinations')).body).not.toContain(secret);
      // …except the one an admin asks for.
      const read = await api('GET', '/destinations/nosecret/secret');
      expect(read.statusCode).toBe(200);
      expect(read.json()).toEqual({ id: 'nosecret', secrets: [secret] });
      expect(t.logs.text).not.toContain(secret);

      // And it delivers, signed with that secret (a change of URL keeps it).
      const receiver = await new Receiver([secret]).start();
      try {
        expect((await api('PATCH', '/destinations/nosecret', { url: receiver.url })).statusCode).toBe(200);
        const event = await t.engine.publish({ type: 'order.created', payload: { n: 1 } });
        const [delivery] = await t.engine.delivery.list({ eventId: event.id, limit: 10 });
        expect(await t.engine.delivery.attempt(delivery!.id, new AbortController().signal)).toBeUndefined();
        expect(receiver.received).toHaveLength(1);
        expect(receiver.received[0]!.verifiedWith).toBe(0);
      } finally {
        await receiver.stop();
      }
    });

    it('keeps the secret a destination was created with, and answers 404 for the secret of none', async () => {
      const given = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
      const created = await api('POST', '/destinations', {
        id: 'given',
        url: 'https://hooks.example.net/in',
        secrets: [given],
      });
      expect(created.statusCode).toBe(201);
      expect(created.json().secret).toBeUndefined();
      expect((await api('GET', '/destinations/given/secret')).json().secrets).toEqual([given]);
      expect((await api('GET', '/destinations/nothing/secret')).statusCode).toBe(404);
    });

    it('refuses plain http at creation unless every address of the name is inside allowedNetworks', async () => {
      const refused = await api('POST', '/destinations', { id: 'plain', url: 'http://example.com/x' });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error).toMatchObject({
        code: 'INSECURE_URL',
        message: expect.stringContaining('example.com resolves to 93.184.216.34'),
      });
      const unknown = await api('POST', '/destinations', { id: 'plain', url: 'http://nowhere.test/x' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error.message).toContain('nowhere.test could not be resolved');
      // A name resolving inside allowedNetworks may use plain http, as documented.
      const inside = await api('POST', '/destinations', { id: 'plain', url: 'http://receiver.test:9/x' });
      expect(inside.statusCode).toBe(201);
      // So may a change: PATCH is checked the same way.
      const moved = await api('PATCH', '/destinations/plain', { url: 'http://example.com/y' });
      expect(moved.statusCode).toBe(400);
      expect((await api('GET', '/destinations')).statusCode).toBe(200);
    });
  });
}
