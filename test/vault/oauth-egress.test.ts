import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer, type Server as NetServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorClients } from '../../src/connectors/connector-clients.js';
import type { Connector, Resolver } from '../../src/http/ssrf/index.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';

const TOKEN = 'egress-admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const { dialect: sqliteDialect, available: sqliteAvailable } = allDialects[0]!;

/** A TCP listener on loopback that counts the connections made to it (a TLS handshake would start here). */
async function countingListener(): Promise<{ server: NetServer; port: number; count: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, count: () => connections };
}

function clientsOf(t: TestEngine): ConnectorClients {
  return t.engine.modules.find((m) => m.name === 'connections')!.service as ConnectorClients;
}

describe.skipIf(!sqliteAvailable)('everything the vault and connections dial passes the SSRF rule', () => {
  let t: TestEngine;
  let listener: Awaited<ReturnType<typeof countingListener>>;
  /** What the guard asked to be dialled, by address. */
  const dialled: string[] = [];
  // `idp.example` and `api.example` resolve into the private network, as a rebinding name would.
  const resolver: Resolver = async (name) =>
    name === 'localhost'
      ? [{ address: '127.0.0.1', family: 4 }]
      : [{ address: name.startsWith('idp.') ? '10.0.0.7' : '192.168.1.20', family: 4 }];
  const connect: Connector = (options, callback) => {
    dialled.push(options.hostname);
    callback(new Error('the test connector dials nothing'), null);
  };

  beforeAll(async () => {
    listener = await countingListener();
    t = await openTestEngine(
      sqliteDialect,
      { server: { adminToken: TOKEN } },
      { network: { resolver, connect } },
    );
  });
  afterAll(async () => {
    await t?.close();
    listener?.server.close();
  });
  afterEach(async () => {
    dialled.length = 0;
    await t.db.db.deleteFrom('connections').execute();
  });

  const post = (payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/connections', headers: auth, payload });
  const refresh = (id: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/connections/${id}/refresh`,
      headers: { ...auth, 'content-type': 'application/json' },
    });
  const clientCredentials = (endpoint: Record<string, string>) => ({
    id: 'idp',
    provider: 'custom',
    baseUrl: 'https://api.example.com',
    auth: {
      scheme: 'oauth2-client-credentials',
      clientId: 'c',
      clientSecret: 'client-secret-1',
      ...endpoint,
    },
  });

  it('refuses a connection whose token URL or issuer is a blocked address, naming the field', async () => {
    for (const [field, url, reason] of [
      ['tokenUrl', 'https://169.254.169.254/latest/token', /link-local/],
      ['tokenUrl', 'https://10.0.0.1/token', /private/],
      ['issuer', 'https://[::1]:8443', /loopback/],
    ] as const) {
      const res = await post(clientCredentials({ [field]: url }));
      expect(res.statusCode, `${field} ${url}`).toBe(400);
      expect(res.json().error.code).toBe('SSRF_BLOCKED');
      expect(res.json().error.message).toMatch(new RegExp(`^auth\\.${field} `));
      expect(res.json().error.message).toMatch(reason);
    }
    const base = await post({
      ...clientCredentials({ tokenUrl: 'https://idp.example/token' }),
      baseUrl: 'https://192.168.0.10/',
    });
    expect(base.statusCode).toBe(400);
    expect(base.json().error.message).toMatch(/^baseUrl 192\.168\.0\.10 is blocked/);
    const patched = await post({
      id: 'p',
      provider: 'custom',
      baseUrl: 'https://api.example.com',
      auth: { scheme: 'bearer', token: 'tok' },
    });
    expect(patched.statusCode).toBe(201);
    const moved = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/connections/p',
      headers: auth,
      payload: { baseUrl: 'https://[fd00::1]/' },
    });
    expect(moved.statusCode).toBe(400);
    expect(moved.json().error.code).toBe('SSRF_BLOCKED');
    expect(t.logs.text).not.toContain('client-secret-1');
  });

  it('never dials a token endpoint whose name resolves into a private network', async () => {
    expect((await post(clientCredentials({ tokenUrl: 'https://idp.example/token' }))).statusCode).toBe(201);
    const res = await refresh('idp');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('SSRF_BLOCKED');
    expect(res.body).toMatch(/10\.0\.0\.7, which is blocked: private/);
    expect(dialled).toEqual([]);
  });

  it('never dials discovery on an issuer on loopback (the report: real TLS connections opened there)', async () => {
    const issuer = `https://localhost:${listener.port}`;
    expect((await post(clientCredentials({ issuer }))).statusCode).toBe(201);
    const res = await refresh('idp');
    expect(res.json().error.code).toBe('SSRF_BLOCKED');
    expect(res.body).toMatch(/localhost resolves to 127\.0\.0\.1, which is blocked: loopback/);
    expect(dialled).toEqual([]);
    expect(listener.count()).toBe(0);
  });

  it("checks a connection's own API calls: a base URL resolving to a private address is never dialled", async () => {
    expect(
      (
        await post({
          id: 'crm',
          provider: 'custom',
          baseUrl: 'https://api.example/',
          auth: { scheme: 'bearer', token: 'crm-token' },
        })
      ).statusCode,
    ).toBe(201);
    const client = await clientsOf(t).client('crm');
    await expect(client.request({ path: '/contacts' })).rejects.toMatchObject({
      code: 'SSRF_BLOCKED',
      message: expect.stringMatching(/api\.example resolves to 192\.168\.1\.20, which is blocked/),
    });
    expect(dialled).toEqual([]);
  });
});

describe.skipIf(!sqliteAvailable)('private networks open only by configuration', () => {
  let t: TestEngine;
  let api: Server;
  let hits = 0;
  beforeAll(async () => {
    api = createHttpServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    t = await openTestEngine(sqliteDialect, {
      vault: { allowedNetworks: ['127.0.0.0/8'] },
      connections: [{ id: 'local', baseUrl: url, auth: { scheme: 'bearer', token: 'tok' } }],
    });
  });
  afterAll(async () => {
    await t?.close();
    api?.close();
  });

  it('reaches a loopback API inside vault.allowedNetworks', async () => {
    const client = await clientsOf(t).client('local');
    const res = await client.request({ path: '/x' });
    expect(res.body).toEqual({ ok: true });
    expect(hits).toBe(1);
  });

  it('refuses at start a config connection on a blocked literal address, naming it', async () => {
    await expect(
      openTestEngine(sqliteDialect, {
        connections: [
          { id: 'meta', baseUrl: 'https://169.254.169.254/', auth: { scheme: 'bearer', token: 't' } },
        ],
      }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/^connections\[0\] \(meta\): baseUrl 169\.254\.169\.254 is blocked/),
    });
  });
});
