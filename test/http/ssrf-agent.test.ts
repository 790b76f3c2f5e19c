import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Connector,
  createGuardedAgent,
  createGuardedConnector,
  createGuardedDispatcherFactory,
  type ResolvedAddress,
  type Resolver,
  systemResolver,
} from '../../src/http/ssrf/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { HttpSender } from '../../src/webhooks/delivery/http-sender.js';

/** A resolver from a table; records every lookup. Nothing here ever asks real DNS. */
function tableResolver(table: Record<string, string[] | (() => string[])>) {
  const lookups: string[] = [];
  const resolver: Resolver = async (hostname) => {
    lookups.push(hostname);
    const entry = table[hostname];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const list = typeof entry === 'function' ? entry() : entry;
    return list.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolver, lookups };
}

/** A connector that connects to nothing and records what it was asked to dial. */
function recordingConnector(fail: (address: string) => boolean = () => true) {
  const dialled: Array<{ hostname: string; servername?: string }> = [];
  const connect: Connector = (options, callback) => {
    dialled.push({
      hostname: options.hostname,
      ...(options.servername && { servername: options.servername }),
    });
    if (fail(options.hostname)) {
      callback(
        Object.assign(new Error(`connect ECONNREFUSED ${options.hostname}`), { code: 'ECONNREFUSED' }),
        null,
      );
    } else {
      callback(Object.assign(new Error('fake socket'), { fake: true }), null);
    }
  };
  return { connect, dialled };
}

/** Runs the connector once and returns the error it produced (the recording connector never succeeds). */
function dial(
  connector: Connector,
  hostname: string,
  protocol = 'https:',
): Promise<Error & { code?: string }> {
  return new Promise((resolve) => {
    connector({ hostname, host: `${hostname}:443`, protocol, port: '443' }, (...args) =>
      resolve(args[0] as Error),
    );
  });
}

describe('the guarded connector (injected resolver and connector)', () => {
  it('dials the checked address with SNI for the original name', async () => {
    const { resolver } = tableResolver({ 'public.test': ['93.184.216.34'] });
    const { connect, dialled } = recordingConnector();
    const err = await dial(createGuardedConnector({ resolver, connect }), 'public.test');
    expect(err.message).toMatch(/ECONNREFUSED 93.184.216.34/);
    expect(dialled).toEqual([{ hostname: '93.184.216.34', servername: 'public.test' }]);
  });

  it.each([
    ['private.test', ['10.0.0.7'], /private.test resolves to 10.0.0.7, which is blocked: private network/],
    ['metadata.test', ['169.254.169.254'], /metadata/],
    ['loopback6.test', ['::1'], /loopback/],
    ['mapped.test', ['::ffff:169.254.169.254'], /resolves to 169.254.169.254/],
    ['mixed.test', ['8.8.8.8', '192.168.0.10'], /192.168.0.10, which is blocked/],
    ['nat64.test', ['64:ff9b::c0a8:1'], /NAT64 address embedding 192.168.0.1/],
  ])('refuses %s without dialling anything', async (name, addresses, reason) => {
    const { resolver } = tableResolver({ [name]: addresses });
    const { connect, dialled } = recordingConnector();
    const err = await dial(createGuardedConnector({ resolver, connect }), name);
    expect(err).toMatchObject({ code: 'SSRF_BLOCKED', message: expect.stringMatching(reason) });
    expect(dialled).toEqual([]);
  });

  it('refuses a blocked literal address without resolving or dialling', async () => {
    const { resolver, lookups } = tableResolver({});
    const { connect, dialled } = recordingConnector();
    const err = await dial(createGuardedConnector({ resolver, connect }), '127.0.0.1');
    expect(err).toMatchObject({
      code: 'SSRF_BLOCKED',
      message: 'destination 127.0.0.1, which is blocked: loopback',
    });
    expect(lookups).toEqual([]);
    expect(dialled).toEqual([]);
  });

  it('looks a name up once per connection, so a rebinding answer cannot change the address dialled', async () => {
    let calls = 0;
    const { resolver, lookups } = tableResolver({
      'rebind.test': () => (calls++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']),
    });
    const { connect, dialled } = recordingConnector();
    const connector = createGuardedConnector({ resolver, connect });
    await dial(connector, 'rebind.test');
    expect(lookups).toEqual(['rebind.test']);
    expect(dialled.map((d) => d.hostname)).toEqual(['93.184.216.34']);
    // The next connection looks up again, and this time the answer is refused.
    expect(await dial(connector, 'rebind.test')).toMatchObject({ code: 'SSRF_BLOCKED' });
    expect(dialled).toHaveLength(1);
  });

  it('tries the next checked address when one refuses the connection', async () => {
    const { resolver } = tableResolver({ 'two.test': ['93.184.216.34', '2606:2800:220:1::1'] });
    const { connect, dialled } = recordingConnector((a) => a === '93.184.216.34');
    const err = await dial(createGuardedConnector({ resolver, connect }), 'two.test');
    expect(err).toMatchObject({ fake: true });
    expect(dialled.map((d) => d.hostname)).toEqual(['93.184.216.34', '2606:2800:220:1::1']);
  });

  it('refuses plain http outside allowedNetworks', async () => {
    const { resolver } = tableResolver({ 'public.test': ['93.184.216.34'], 'internal.test': ['10.1.2.3'] });
    const { connect, dialled } = recordingConnector();
    const connector = createGuardedConnector({ resolver, connect, allowedNetworks: ['10.1.0.0/16'] });
    expect(await dial(connector, 'public.test', 'http:')).toMatchObject({ code: 'INSECURE_URL' });
    expect(dialled).toEqual([]);
    await dial(connector, 'internal.test', 'http:');
    expect(dialled.map((d) => d.hostname)).toEqual(['10.1.2.3']);
  });

  it('reports DNS failures and empty answers as network errors', async () => {
    const { resolver } = tableResolver({ 'empty.test': [] });
    const { connect } = recordingConnector();
    const connector = createGuardedConnector({ resolver, connect });
    expect(await dial(connector, 'nowhere.test')).toMatchObject({
      code: 'NETWORK_ERROR',
      message: expect.stringMatching(/ENOTFOUND/),
    });
    expect(await dial(connector, 'empty.test')).toMatchObject({
      code: 'NETWORK_ERROR',
      message: 'empty.test resolved to no address',
    });
  });

  it('gives up on a resolver that never answers after resolveTimeoutMs', async () => {
    const clock = new FakeClock();
    let aborted = false;
    const resolver: Resolver = (_, signal) =>
      new Promise(() => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
      });
    const { connect, dialled } = recordingConnector();
    let settled = false;
    const pending = dial(
      createGuardedConnector({ resolver, connect, clock, resolveTimeoutMs: 2000 }),
      'slow.test',
    );
    void pending.then(() => {
      settled = true;
    });
    await clock.advance(1999);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect(await pending).toMatchObject({
      code: 'TIMEOUT',
      message: 'DNS lookup of slow.test took longer than 2000 ms',
    });
    expect(aborted).toBe(true);
    expect(dialled).toEqual([]);
  });

  it('validates its options eagerly', () => {
    expect(() => createGuardedConnector({ allowedNetworks: ['10.0.0.0/99'] })).toThrow(
      /allowedNetworks\[0\]/,
    );
    expect(() => createGuardedConnector({ resolveTimeoutMs: 0 })).toThrow(
      /resolveTimeoutMs must be a positive number/,
    );
  });
});

describe('the guarded agent against real servers on 127.0.0.1', () => {
  let server: Server;
  let port = 0;
  const connections: Socket[] = [];
  const seen: Array<{ host: string | undefined; url: string | undefined }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ host: req.headers.host, url: req.url });
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
      }
    });
    server.on('connection', (socket) => connections.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('never opens a connection to a name that resolves to loopback', async () => {
    const before = connections.length;
    const { resolver } = tableResolver({ 'hooks.test': ['127.0.0.1'] });
    const agent = createGuardedAgent({ resolver });
    await expect(request(`http://hooks.test:${port}/`, { dispatcher: agent })).rejects.toMatchObject({
      code: 'SSRF_BLOCKED',
    });
    await expect(request(`http://127.0.0.1:${port}/`, { dispatcher: agent })).rejects.toMatchObject({
      code: 'SSRF_BLOCKED',
    });
    await expect(request(`http://2130706433:${port}/`, { dispatcher: agent })).rejects.toMatchObject({
      code: 'SSRF_BLOCKED',
    });
    await agent.close();
    expect(connections.length).toBe(before);
  });

  it('with the default (system) resolver, refuses localhost without connecting', async () => {
    const addresses = await systemResolver('localhost', new AbortController().signal);
    expect(addresses.length).toBeGreaterThan(0);
    const before = connections.length;
    const agent = createGuardedAgent();
    await expect(request(`http://localhost:${port}/`, { dispatcher: agent })).rejects.toMatchObject({
      code: 'SSRF_BLOCKED',
      message: expect.stringMatching(
        /^localhost resolves to (127\.0\.0\.1|::1), which is blocked: loopback$/,
      ),
    });
    await agent.close();
    expect(connections.length).toBe(before);
  });

  it('connects to the checked address with the original Host when allowedNetworks permits', async () => {
    const { resolver, lookups } = tableResolver({ 'hooks.test': ['127.0.0.1'] });
    const agent = createGuardedAgent({ resolver, allowedNetworks: ['127.0.0.0/8'] });
    const response = await request(`http://hooks.test:${port}/in?x=1`, { dispatcher: agent });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('hello');
    expect(seen.at(-1)).toEqual({ host: `hooks.test:${port}`, url: '/in?x=1' });
    expect(lookups).toEqual(['hooks.test']);
    await agent.close();
  });

  it('does not follow a redirect, even to a blocked address', async () => {
    const { resolver, lookups } = tableResolver({ 'hooks.test': ['127.0.0.1'] });
    const agent = createGuardedAgent({ resolver, allowedNetworks: ['127.0.0.0/8'] });
    const before = connections.length;
    const response = await request(`http://hooks.test:${port}/redirect`, { dispatcher: agent });
    expect(response.statusCode).toBe(302);
    await response.body.dump();
    expect(connections.length).toBe(before + 1);
    expect(lookups).toEqual(['hooks.test']);
    await agent.close();
  });

  it('plugs into the delivery sender: a blocked destination is a failed attempt coded SSRF_BLOCKED', async () => {
    const before = connections.length;
    const { resolver } = tableResolver({ 'hooks.test': ['127.0.0.1'] });
    const blocked = new HttpSender(createGuardedDispatcherFactory({ resolver }));
    for (const url of [`http://127.0.0.1:${port}/`, `https://hooks.test:${port}/`]) {
      const result = await blocked.send({
        url: new URL(url),
        headers: {},
        body: Buffer.from('{}'),
        timeoutMs: 5000,
      });
      expect(result, url).toMatchObject({ outcome: 'failed', errorCode: 'SSRF_BLOCKED', statusCode: null });
    }
    await blocked.close();
    expect(connections.length).toBe(before);

    const allowed = new HttpSender(
      createGuardedDispatcherFactory({ resolver, allowedNetworks: ['127.0.0.0/8'] }),
    );
    const ok = await allowed.send({
      url: new URL(`http://hooks.test:${port}/in`),
      headers: {},
      body: Buffer.from('{}'),
      timeoutMs: 5000,
    });
    expect(ok).toMatchObject({ outcome: 'succeeded', statusCode: 200 });
    const redirect = await allowed.send({
      url: new URL(`http://hooks.test:${port}/redirect`),
      headers: {},
      body: Buffer.from('{}'),
      timeoutMs: 5000,
    });
    expect(redirect).toMatchObject({ outcome: 'failed', statusCode: 302, errorCode: 'HTTP_REDIRECT' });
    await allowed.close();
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('TLS through the guard', () => {
  let dir: string;
  let server: HttpsServer;
  let port = 0;
  let cert: Buffer;
  const servernames: Array<string | false | null> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'patchbay-ssrf-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=hooks.test',
        '-addext',
        'subjectAltName=DNS:hooks.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    server = createTlsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      servernames.push((req.socket as import('node:tls').TLSSocket).servername);
      res.end('secure');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends SNI and checks the certificate for the hostname, while dialling the checked address', async () => {
    const { resolver } = tableResolver({ 'hooks.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] });
    const agent = createGuardedAgent({
      resolver,
      allowedNetworks: ['127.0.0.0/8'],
      connectOptions: { ca: cert },
    });
    const response = await request(`https://hooks.test:${port}/`, { dispatcher: agent });
    expect(await response.body.text()).toBe('secure');
    expect(servernames).toEqual(['hooks.test']);
    // A name the certificate does not cover fails verification: the check is against the name, not the IP.
    await expect(request(`https://other.test:${port}/`, { dispatcher: agent })).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    await agent.close();
  });
});
