import { createHmac } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';

const SECRET = 'guard-test-secret';
const DESTINATION = { id: 'probe', url: 'http://127.0.0.1:1/hooks' };

// The loopback default: no admin token, so nothing but these rules stands between a web page and the API.
describe.skipIf(!allDialects[0]!.available)('the admin API against browsers on other sites', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(allDialects[0]!.dialect, {
      server: { allowedHosts: ['Patchbay.Example.com'] },
      sources: [{ id: 'gh', verify: { scheme: 'github', secrets: [SECRET] } }],
      destinations: [
        {
          id: 'fixed',
          url: 'https://fixed.example.com/hooks',
          secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
          disabled: true,
        },
      ],
      delivery: { allowedNetworks: ['127.0.0.0/8'] },
    });
  });
  afterAll(async () => t?.close());

  const inject = (options: InjectOptions) => t.app.inject(options);
  const destinations = async () =>
    (await inject({ url: '/api/v1/destinations' })).json().data.map((d: { id: string }) => d.id);

  it('refuses a Host it is not configured for (DNS rebinding) with 421, reading nor changing anything', async () => {
    for (const host of ['attacker.example', 'attacker.example:8080', '127.0.0.1.attacker.example', '[::2]']) {
      const read = await inject({ url: '/api/v1/events', headers: { host } });
      expect(read.statusCode, host).toBe(421);
      expect(read.json().error).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
      const created = await inject({
        method: 'POST',
        url: '/api/v1/destinations',
        headers: { host },
        payload: DESTINATION,
      });
      expect(created.statusCode, host).toBe(421);
    }
    expect(await destinations()).not.toContain('probe');
  });

  it('answers to loopback names and the configured hosts, in any letter case', async () => {
    for (const host of [
      'localhost',
      'localhost:8080',
      '127.0.0.1:8080',
      '127.1.2.3',
      '[::1]:8080',
      'PATCHBAY.example.com',
    ]) {
      expect((await inject({ url: '/api/v1/destinations', headers: { host } })).statusCode, host).toBe(200);
    }
  });

  it('leaves webhook ingress to its signatures: any Host is accepted there', async () => {
    const body = JSON.stringify({ action: 'opened' });
    const res = await inject({
      method: 'POST',
      url: '/webhooks/gh',
      headers: {
        host: 'hooks.attacker-chosen.example',
        origin: 'https://elsewhere.example',
        'content-type': 'application/json',
        'x-github-delivery': 'guard-1',
        'x-github-event': 'push',
        'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
  });

  it('refuses state changes a cross-site page could send without a preflight (no type, text/plain, forms)', async () => {
    for (const type of [
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await inject({
        method: 'POST',
        url: '/api/v1/destinations/fixed/enable',
        headers: type ? { 'content-type': type } : {},
        ...(type && { payload: type.startsWith('text') ? '{}' : 'a=b' }),
      });
      expect(res.statusCode, String(type)).toBe(415);
      expect(res.json().error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
    expect((await inject({ url: '/api/v1/destinations/fixed' })).json().status).toBe('disabled');
    // The same call with a JSON type, and no body at all, goes through.
    const ok = await inject({
      method: 'POST',
      url: '/api/v1/destinations/fixed/enable',
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.statusCode).toBeLessThan(300);
    expect((await inject({ url: '/api/v1/destinations/fixed' })).json().status).toBe('enabled');
  });

  it('refuses a foreign Origin and cross-site fetch metadata, and accepts its own origin', async () => {
    const create = (headers: Record<string, string>) =>
      inject({
        method: 'POST',
        url: '/api/v1/destinations',
        headers: { host: 'localhost:8080', ...headers },
        payload: DESTINATION,
      });
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { origin: 'http://localhost:3000' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ]) {
      const res = await create(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json().error).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    expect(await destinations()).not.toContain('probe');
    const own = await create({ origin: 'http://localhost:8080', 'sec-fetch-site': 'same-origin' });
    expect(own.statusCode).toBe(201);
  });

  it('refuses CORS preflights, granting nothing', async () => {
    const res = await inject({
      method: 'OPTIONS',
      url: '/api/v1/destinations',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });
});
