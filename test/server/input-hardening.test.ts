import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/index.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { adminApi, openTestEngine, type TestEngine } from '../helpers/engine.js';

const { dialect, available } = allDialects[0]!;
const TOKEN = 'input-hardening-admin-token-0123';

describe('the configuration refuses what would fail later', () => {
  it('refuses an admin token of spaces or with control characters, naming the field', () => {
    for (const adminToken of [' '.repeat(16), `${'a'.repeat(16)} b`, `${'a'.repeat(16)}\t`]) {
      expect(() => parseConfig({ server: { adminToken } })).toThrow(
        /server\.adminToken: must be visible ASCII characters only/,
      );
    }
    expect(parseConfig({ server: { adminToken: 'Zx9!kQ#2mP$7vL@4' } }).server.adminToken).toBe(
      'Zx9!kQ#2mP$7vL@4',
    );
  });

  it('refuses destination header names that are not tokens and values with CR or LF', () => {
    const destination = (headers: Record<string, string>) => ({
      destinations: [
        { id: 'd', url: 'https://hooks.example.com/', secrets: [generateWebhookSecret()], headers },
      ],
    });
    expect(() => parseConfig(destination({ 'x-key': 'a\r\nX-Injected: 1' }))).toThrow(
      /destinations\[0\]\.headers\.x-key: header values must not contain CR, LF/,
    );
    expect(() => parseConfig(destination({ 'bad name': 'v' }))).toThrow(/header names must be HTTP tokens/);
    expect(() => parseConfig(destination({ 'x-key': 'a\u0000' }))).toThrow(/control characters/);
    expect(parseConfig(destination({ 'X-Api-Key': 'tab\tand space ok' })).destinations[0]!.headers).toEqual({
      'X-Api-Key': 'tab\tand space ok',
    });
  });
});

describe.skipIf(!available)('destinations refused alike from the API and the config file', () => {
  let t: TestEngine;
  let receiver: Server;
  const paths: string[] = [];
  const secret = generateWebhookSecret();
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      res.end();
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    t = await openTestEngine(dialect, {
      server: { adminToken: TOKEN },
      delivery: { allowedNetworks: ['127.0.0.0/8'] },
      workers: { pollInterval: '50ms' },
    });
    await t.engine.startWorkers();
  });
  afterAll(async () => {
    await t?.close();
    receiver?.close();
  });
  const api = (...args: Parameters<ReturnType<typeof adminApi>>) => adminApi(t.app, TOKEN)(...args);

  it('answers a CRLF header value or a bad header name with a 400 at creation', async () => {
    const crlf = await api('POST', '/destinations', {
      id: 'crlf',
      url: 'https://hooks.example.com/',
      headers: { 'x-key': 'v\r\nX-Injected: yes' },
    });
    expect(crlf.statusCode).toBe(400);
    expect(crlf.json().error.message).toMatch(/headers\.x-key: header values must not contain CR, LF/);
    const name = await api('POST', '/destinations', {
      id: 'name',
      url: 'https://hooks.example.com/',
      headers: { 'x key:': 'v' },
    });
    expect(name.statusCode).toBe(400);
    expect(name.json().error.message).toMatch(/header names must be HTTP tokens/);
  });

  it('says at start, naming it, that a config destination on a blocked address literal will fail, as the API refuses it', async () => {
    const api169 = await api('POST', '/destinations', { id: 'meta', url: 'https://169.254.169.254/latest' });
    expect(api169.statusCode).toBe(400);
    expect(api169.json().error.code).toBe('SSRF_BLOCKED');
    const other = await openTestEngine(dialect, {
      destinations: [
        { id: 'meta', url: 'https://169.254.169.254/latest', secrets: [secret] },
        { id: 'plain', url: 'http://hooks.example.com/', secrets: [secret] },
        { id: 'fine', url: 'https://hooks.example.com/', secrets: [secret] },
      ],
    });
    try {
      const warnings = other.logs.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
      expect(warnings.map((w) => w.msg)).toEqual([
        expect.stringMatching(
          /^destinations\[0\] \(meta\): destination 169\.254\.169\.254 is blocked: link-local.*every delivery to it will fail/,
        ),
        expect.stringMatching(/^destinations\[1\] \(plain\): destination URL must use https/),
      ]);
    } finally {
      await other.close();
    }
  });

  it("seals a destination URL's query with its secrets, and still delivers to it", async () => {
    const token = `q-${Math.random().toString(36).slice(2)}-credential`;
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in?token=${token}&x=1`;
    const created = await api('POST', '/destinations', {
      id: 'query',
      url,
      secrets: [secret],
      events: ['api.**'],
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain(token);
    const row = await t.db.db
      .selectFrom('destinations')
      .selectAll()
      .where('id', '=', 'query')
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(token);
    // Nor anywhere in the database files (WAL included).
    const dir = dirname(t.testDb.url.replace(/^sqlite:/, ''));
    for (const file of readdirSync(dir)) expect(readFileSync(`${dir}/${file}`).includes(token)).toBe(false);
    expect((await api('POST', '/events', { type: 'order.created', payload: { n: 1 } })).statusCode).toBe(201);
    const deadline = Date.now() + 15_000;
    while (paths.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(paths).toEqual([`/in?token=${token}&x=1`]);
  });
});
