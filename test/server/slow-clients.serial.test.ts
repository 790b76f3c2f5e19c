import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PatchbayConfigInput } from '../../src/core/config/schema.js';
import { listenOptions } from '../../src/server/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { parseAnswer, type RawClient, rawConnect, until } from '../helpers/raw-client.js';

const SECRET = 'slow-clients-secret';
const sqlite = allDialects[0]!.dialect;
/** Connections opened at once by the 1,500 crowd: inside any listen backlog (somaxconn was 128 before Linux 5.4). */
const WAVE = 100;

/** A signed GitHub webhook as raw HTTP/1.1 bytes; its body padded to `size` bytes when given. */
function signedWebhook(id: string, connection = 'keep-alive', size?: number): string {
  const bare = JSON.stringify({ action: 'opened', n: id, pad: '' });
  const pad = size === undefined ? '' : 'x'.repeat(size - Buffer.byteLength(bare));
  const body = JSON.stringify({ action: 'opened', n: id, pad });
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  return [
    'POST /webhooks/gh HTTP/1.1',
    'host: 127.0.0.1',
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-github-delivery: ${id}`,
    'x-github-event: pull_request',
    `x-hub-signature-256: ${signature}`,
    `connection: ${connection}`,
    '',
    body,
  ].join('\r\n');
}

/** Headers of a request whose body (of `length` bytes) the caller sends, or never does. */
function headersOnly(length: number): string {
  return `POST /webhooks/gh HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;
}

describe('slow and hostile clients', () => {
  let t: TestEngine | undefined;
  let clock: FakeClock;
  let port: number;
  let accepted = 0;
  let requests = 0;
  const clients: RawClient[] = [];

  async function start(limits: NonNullable<PatchbayConfigInput['server']>['limits'] = {}, more = {}) {
    clock = new FakeClock(Date.now());
    t = await openTestEngine(
      sqlite,
      {
        server: { limits, ...more },
        sources: [{ id: 'gh', verify: { scheme: 'github', secrets: [SECRET] } }],
      },
      { clock },
    );
    t.app.server.on('connection', () => accepted++);
    t.app.server.on('request', () => requests++);
    await t.app.listen({ ...listenOptions(t.engine.config.server), port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
  }

  async function open(localAddress?: string): Promise<RawClient> {
    const before = accepted;
    const client = await rawConnect(port, localAddress);
    clients.push(client);
    await until(() => accepted > before, 'the server to see the connection');
    return client;
  }

  /** `count` uploads from addresses of their own, each declaring `size` bytes and sending only `start`. */
  async function stallUploads(count: number, size: number, start = ''): Promise<RawClient[]> {
    const stalled: RawClient[] = [];
    for (let i = 0; i < count; i++) {
      const c = await open(`127.0.0.${10 + i}`);
      c.write(headersOnly(size) + start);
      stalled.push(c);
      await until(() => requests === i + 1, 'the stalled upload to reserve its body');
    }
    return stalled;
  }

  /** Moves the injected clock on in the supervisor's 250 ms steps, letting real I/O happen between. */
  async function pass(ms: number): Promise<void> {
    for (let done = 0; done < ms; done += 250) {
      await clock.advance(Math.min(250, ms - done));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function metric(name: string): Promise<string> {
    return t!.engine.registry.getSingleMetricAsString(name);
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    accepted = 0;
    requests = 0;
    await t?.close();
    t = undefined;
  });

  it('answers 408 and closes a connection that sends no complete headers within headersTimeout', async () => {
    await start({ headersTimeout: '2s' });
    const silent = await open();
    const trickling = await open();
    trickling.write('POST /webhooks/gh HTTP/1.1\r\n');
    await pass(1500);
    trickling.write('host: 127.0.0.1\r\n');
    expect(silent.isClosed).toBe(false);
    await pass(750);
    await Promise.all([silent.closed, trickling.closed]);
    for (const client of [silent, trickling]) {
      const answer = parseAnswer(client.received);
      expect(answer.status).toBe(408);
      expect(answer.body).toMatchObject({
        error: { code: 'REQUEST_TIMEOUT', message: expect.stringContaining('request headers') },
      });
      expect((answer.body as { error: { requestId: string } }).error.requestId).toMatch(/^\w{26}$/);
    }
  });

  it('answers 408 to a body still trickling after bodyTimeout, however steadily bytes arrive', async () => {
    await start({ bodyTimeout: '3s' });
    const slow = await open();
    slow.write(headersOnly(1000));
    await until(() => requests === 1, 'the request headers to be parsed');
    for (let i = 0; i < 11; i++) {
      slow.write('x');
      await pass(250);
    }
    expect(slow.isClosed).toBe(false);
    await pass(500);
    await slow.closed;
    const answer = parseAnswer(slow.received);
    expect(answer.status).toBe(408);
    expect(answer.body).toMatchObject({
      error: { code: 'REQUEST_TIMEOUT', message: expect.stringContaining('request body') },
    });
    // The handler waiting for that body gives up quietly: a slow client is not a server error.
    expect(t!.logs.lines.filter((line) => /"level":50/.test(line))).toEqual([]);
  });

  it('gives a kept-alive connection keepAliveTimeout plus headersTimeout for its next request', async () => {
    await start({ headersTimeout: '1s', keepAliveTimeout: '2s' });
    const idle = await open();
    const resumed = await open();
    for (const c of [idle, resumed]) c.write(signedWebhook(`ka-${accepted}-${c.socket.localPort}`));
    await until(
      () => idle.received.includes('"received":1') && resumed.received.includes('"received":1'),
      'answers',
    );
    const answered = resumed.received.length;
    resumed.write('POST /webhooks/gh HTTP/1.1\r\n');
    await pass(2500);
    expect(idle.isClosed || resumed.isClosed).toBe(false);
    await pass(750);
    await Promise.all([idle.closed, resumed.closed]);
    // The idle one sent nothing more: closed without a word, as keep-alive allows.
    expect(idle.received).not.toContain('408');
    expect(parseAnswer(resumed.received.slice(answered)).status).toBe(408);
  });

  it('refuses connections over maxConnectionsPerAddress with 503 before parsing, other addresses still served', async () => {
    await start({ maxConnectionsPerAddress: 3 });
    const held = [await open(), await open(), await open()];
    const refused = await open();
    await refused.closed;
    const answer = parseAnswer(refused.received);
    expect(answer.status).toBe(503);
    expect(answer.headers).toContain('retry-after: 1');
    expect(answer.body).toMatchObject({ error: { code: 'OVERLOADED' } });
    const other = await open('127.0.0.2');
    other.write(signedWebhook('from-another-address', 'close'));
    await other.closed;
    expect(parseAnswer(other.received).status).toBe(200);
    expect(held.every((c) => !c.isClosed)).toBe(true);
    const metrics = await t!.engine.registry.getSingleMetricAsString(
      'patchbay_http_connections_refused_total',
    );
    expect(metrics).toContain('patchbay_http_connections_refused_total{reason="per_address"} 1');
  });

  it('at maxConnections closes the longest-silent connection to serve a new one, and refuses only when all are busy', async () => {
    await start({ maxConnections: 4, maxConnectionsPerAddress: 100 });
    const silent = [await open(), await open(), await open(), await open()];
    const fresh = await open();
    fresh.write(signedWebhook('at-the-cap', 'close'));
    await fresh.closed;
    expect(parseAnswer(fresh.received).status).toBe(200);
    await silent[0]!.closed;
    expect(silent.slice(1).every((c) => !c.isClosed)).toBe(true);

    // Now every connection is mid-body: none can be closed for a newcomer, which is refused.
    for (const c of silent.slice(1)) c.socket.destroy();
    const busy = [await open(), await open(), await open(), await open()];
    for (const c of busy) c.write(headersOnly(100));
    await until(() => requests === 5, 'four requests waiting for their bodies');
    const refused = await open();
    await refused.closed;
    expect(parseAnswer(refused.received).status).toBe(503);
    expect(busy.every((c) => !c.isClosed)).toBe(true);
  });

  it('holds a bounded amount of request bodies: a new request cuts off the longest-stalled one', async () => {
    await start({ inflightBodyLimit: '1mb', bodyTimeout: '5s' }, { bodyLimit: '256kb' });
    const stalled = await stallUploads(4, 256 * 1024, '{"partial":');
    const webhook = await open();
    webhook.write(signedWebhook('while-memory-is-full', 'close'));
    await webhook.closed;
    expect(parseAnswer(webhook.received).status).toBe(200);
    await stalled[0]!.closed;
    const cut = parseAnswer(stalled[0]!.received);
    expect(cut.status).toBe(503);
    expect(cut.headers).toContain('retry-after: 1');
    expect(cut.body).toMatchObject({ error: { code: 'OVERLOADED' } });
    expect(stalled.slice(1).every((c) => !c.isClosed)).toBe(true);
  });

  it('lets a body that no larger one can make room for wait unread, not cut off an equal one, within bodyTimeout', async () => {
    await start({ inflightBodyLimit: '1mb', bodyTimeout: '5s' }, { bodyLimit: '256kb' });
    const stalled = await stallUploads(4, 256 * 1024);
    // As large as each stalled one: cutting one off for it would let equal trickles rotate for ever.
    const large = await open('127.0.0.20');
    large.write(signedWebhook('large-and-whole', 'close', 256 * 1024));
    const unread = await open('127.0.0.21');
    unread.write(headersOnly(256 * 1024));
    await until(() => requests === 6, 'both requests to be parsed');
    await pass(1000);
    expect(await metric('patchbay_http_bodies_waiting')).toContain('patchbay_http_bodies_waiting 2');
    expect([...stalled, large, unread].every((c) => !c.isClosed && c.received === '')).toBe(true);
    // One stalled sender goes away: the first waiter gets its room and is answered; then the next.
    stalled[0]!.socket.destroy();
    await large.closed;
    expect(parseAnswer(large.received).status).toBe(200);
    expect(await metric('patchbay_http_bodies_waiting')).toContain('patchbay_http_bodies_waiting 0');
    // Its body deadline ran from its headers, the wait included: 408 like any slow body.
    await pass(4500);
    await unread.closed;
    expect(parseAnswer(unread.received).status).toBe(408);
    expect(await metric('patchbay_http_bodies_cut_total')).toContain('patchbay_http_bodies_cut_total 0');
    expect(t!.logs.lines.filter((line) => /"level":50/.test(line))).toEqual([]);
  });

  it('sees a burst of 2,500 connections opened at once: the listen backlog (listenBacklog) holds them', async (context) => {
    // The kernel caps the backlog at net.core.somaxconn (4,096 since Linux 5.4, 128 before). With Node's
    // default of 511 most of this burst was never seen (SYN cookies, as in the 1,500 case below).
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    if (!(somaxconn >= 4096)) context.skip(`net.core.somaxconn is ${somaxconn}, below the default backlog`);
    await start();
    const crowd: Promise<RawClient>[] = [];
    for (let i = 0; i < 2500; i++) crowd.push(rawConnect(port, `127.0.3.${1 + (i % 10)}`));
    clients.push(...(await Promise.all(crowd)));
    await until(() => accepted >= 2500, 'the server to see all 2,500 connections', 20_000);
  });

  it('keeps answering webhooks and /healthz with 1,500 silent connections from many addresses', async () => {
    await start({ maxConnections: 400, maxConnectionsPerAddress: 100 });
    // In waves any listen queue holds: a burst larger than the backlog overflows it, and a silent
    // client whose handshake the kernel completed with a SYN cookie then never reaches the server at all
    // (the server cannot see, let alone close, what it was never given; docs/security.md).
    for (let wave = 0; wave < 1500; wave += WAVE) {
      const crowd: Promise<RawClient>[] = [];
      for (let i = wave; i < wave + WAVE; i++) crowd.push(rawConnect(port, `127.0.1.${1 + (i % 30)}`));
      clients.push(...(await Promise.all(crowd)));
      await until(() => accepted >= wave + WAVE, `the server to see ${wave + WAVE} connections`, 20_000);
    }
    // The server holds at most its cap: the longest-silent ones were closed as newer ones came.
    await until(() => clients.filter((c) => c.isClosed).length >= 1100, 'all but 400 to be closed', 20_000);
    expect(clients.filter((c) => !c.isClosed).length).toBe(400);
    expect(clients.slice(-400).every((c) => !c.isClosed)).toBe(true);
    for (let i = 0; i < 5; i++) {
      const c = await open();
      c.write(signedWebhook(`crowded-${i}`, 'close'));
      await c.closed;
      expect(parseAnswer(c.received).status).toBe(200);
    }
    const health = await open();
    health.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n');
    await health.closed;
    expect(parseAnswer(health.received).status).toBe(200);
    const metrics = await metric('patchbay_http_connections_refused_total');
    // 1,100 silent ones for the crowd, one more for the first webhook (the later ones took the room it left).
    expect(metrics).toContain('patchbay_http_connections_refused_total{reason="evicted"} 1101');
  }, 60_000);

  it('answers headers over the size limit (431) and malformed requests (400) in the API error shape', async () => {
    await start();
    const big = await open();
    big.write(`GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await big.closed;
    const tooLarge = parseAnswer(big.received);
    expect(tooLarge.status).toBe(431);
    expect(tooLarge.body).toMatchObject({
      error: { code: 'HEADERS_TOO_LARGE', requestId: expect.any(String) },
    });
    const garbage = await open();
    garbage.write('HELLO THERE\r\n\r\n');
    await garbage.closed;
    const malformed = parseAnswer(garbage.received);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^malformed HTTP request/) },
    });
  });
});
