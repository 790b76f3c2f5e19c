import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatKey, generateKey } from '../../src/vault/index.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';

const TOKEN = 'hostile-input-admin-token-0123456789';

/** Values of every wrong kind: types, sizes, encodings, injections, prototype keys, nonsense durations. */
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  '',
  ' ',
  'x'.repeat(100_000),
  '\u0000',
  '🦄',
  '../../etc/passwd',
  "'; drop table deliveries; --",
  [],
  [1, 'two'],
  {},
  JSON.parse('{"__proto__": {"admin": true}}'),
  { constructor: { prototype: { polluted: 1 } } },
  '2026-13-45',
  'not-a-date',
  '-1s',
  '999999999999d',
];

const HOSTILE_BODIES = ['{', 'null', '[]', '"x"', '1', '{"a":', '\u0000', '{"__proto__": {"x": 1}}'];

/**
 * The endpoints that take a body, each with a valid body that the hostile values are mixed into, in an
 * order where each finds what it changes (a connection is created before it is patched). Every route
 * whose OpenAPI operation has a request body must be here (tested below).
 */
const WITH_BODY: ['POST' | 'PATCH', string, Record<string, unknown>][] = [
  ['POST', '/destinations', { id: 'probe', url: 'http://127.0.0.1:1/hooks' }],
  ['PATCH', '/destinations/fixed', {}],
  ['POST', '/events', { type: 'order.created', payload: {} }],
  ['POST', '/destinations/fixed/recover', { since: '1h' }],
  ['POST', '/destinations/fixed/disable', {}],
  ['POST', '/destinations/fixed/enable', {}],
  ['POST', '/deliveries/dlv_missing/replay', {}],
  ['POST', '/queues/deliveries/dead/requeue', {}],
  ['POST', '/connections', { id: 'probe-conn', auth: { scheme: 'bearer', token: 't0ken-value' } }],
  ['PATCH', '/connections/probe-conn', { metadata: {} }],
  ['POST', '/sources', { id: 'probe-src', verify: { scheme: 'github', secrets: ['probe-secret-value'] } }],
  ['PATCH', '/sources/probe-src', { bodyLimit: '64kb' }],
  ['POST', '/keys/rotate', {}],
  ['POST', '/syncs/missing/run', {}],
  ['POST', '/syncs/missing/runs', {}],
  ['POST', '/syncs/missing/records', { records: [{ data: {} }] }],
  ['POST', '/syncs/missing/quarantine/retry', { ids: ['q1'] }],
  ['POST', '/syncs/missing/quarantine/discard', { all: true }],
  ['POST', '/syncs/missing/conflicts/c1/resolve', { resolution: 'local' }],
  ['POST', '/syncs/missing/verify', {}],
];

/** Fields mixed into every body, besides the route's own (from its OpenAPI schema). */
const FIELDS = [
  'id',
  'url',
  'secrets',
  'events',
  'headers',
  'rateLimit',
  'timeout',
  'ordered',
  'breaker',
  'type',
  'payload',
  'idempotencyKey',
  'source',
  'since',
  'limit',
  'reason',
  'ids',
];

const describeSqlite = describe.skipIf(!allDialects[0]!.available);

describeSqlite('the admin API under hostile input', () => {
  let t: TestEngine;
  const problems: string[] = [];
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    t = await openTestEngine(
      allDialects[0]!.dialect,
      {
        server: { adminToken: TOKEN },
        destinations: [
          { id: 'fixed', url: 'https://fixed.example.com/hooks', secrets: [generateWebhookSecret()] },
        ],
        delivery: { allowedNetworks: ['127.0.0.0/8'] },
      },
      { env: { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) } },
    );
  });
  afterAll(async () => t?.close());
  beforeEach(() => {
    problems.length = 0;
    statuses.clear();
  });

  /** Sends one request; a 5xx, or a 4xx without an error naming the problem, is recorded as a problem. */
  async function send(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: { json: unknown } | { raw: string; type?: string },
  ): Promise<void> {
    const payload = body === undefined ? undefined : 'json' in body ? JSON.stringify(body.json) : body.raw;
    const type = body === undefined ? undefined : 'type' in body ? body.type : 'application/json';
    const res: LightMyRequestResponse = await t.app.inject({
      method,
      url: `/api/v1${path}`,
      headers: { authorization: `Bearer ${TOKEN}`, ...(type && { 'content-type': type }) },
      ...(payload !== undefined && { payload }),
    });
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    const what = `${method} ${path.slice(0, 80)} ${String(payload).slice(0, 80)} → ${res.statusCode}`;
    if (res.statusCode >= 500) problems.push(`${what} ${res.body.slice(0, 200)}`);
    else if (res.statusCode >= 400 && !(res.json() as { error?: { message?: string } }).error?.message)
      problems.push(`${what}: no error message`);
  }

  /**
   * The sweep reached the handlers, so "no 5xx" means something: none was refused at the door (401), some
   * requests succeeded, and others were refused for their content.
   */
  function expectReachedHandlers(): void {
    expect(statuses.get(401)).toBeUndefined();
    expect([...statuses].filter(([status]) => status < 300).length).toBeGreaterThan(0);
    expect(statuses.get(400)).toBeGreaterThan(0);
  }

  /** The admin API's OpenAPI operations that take a body: `METHOD /path/{param}` → its body's fields. */
  async function bodyOperations(): Promise<Map<string, string[]>> {
    type Operation = { requestBody?: { content: Record<string, { schema?: { properties?: object } }> } };
    const doc = (await t.app.inject('/api/v1/openapi.json')).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    const operations = new Map<string, string[]>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const body = operation.requestBody?.content['application/json']?.schema;
        if (!operation.requestBody) continue;
        operations.set(
          `${method.toUpperCase()} ${path.replace(/^\/api\/v1/, '')}`,
          Object.keys(body?.properties ?? {}),
        );
      }
    }
    return operations;
  }

  /** Which operation `METHOD /concrete/path` is, by matching the document's templates. */
  function operationOf(method: string, path: string, operations: Map<string, string[]>): string | undefined {
    return [...operations.keys()].find((key) => {
      const [m, template] = key.split(' ') as [string, string];
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      return m === method && pattern.test(path);
    });
  }

  it('sweeps every admin route that takes a body', async () => {
    const operations = await bodyOperations();
    expect(operations.size).toBeGreaterThan(10);
    const swept = new Set(WITH_BODY.map(([method, path]) => operationOf(method, path, operations)));
    expect([...operations.keys()].filter((key) => !swept.has(key))).toEqual([]);
  });

  it('answers every malformed body with a 4xx naming the problem, never a 5xx', async () => {
    const operations = await bodyOperations();
    for (const [method, path, valid] of WITH_BODY) {
      for (const raw of HOSTILE_BODIES) await send(method, path, { raw });
      await send(method, path, { raw: 'a=b', type: 'application/x-www-form-urlencoded' });
      await send(method, path, { raw: '<a/>', type: 'text/xml' });
      const own = operations.get(operationOf(method, path, operations) ?? '') ?? [];
      for (const field of new Set([...own, ...Object.keys(valid), ...FIELDS])) {
        for (const value of HOSTILE_VALUES) await send(method, path, { json: { ...valid, [field]: value } });
      }
    }
    expect(problems).toEqual([]);
    expectReachedHandlers();
  });

  it('refuses JSON nested deeper than 64 levels on every body with a 400 naming it, as the ingress does', async () => {
    const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    const bodies: ['POST' | 'PATCH', string, (nested: string) => string][] = [
      ...WITH_BODY.map(([method, path, valid]): ['POST' | 'PATCH', string, (nested: string) => string] => [
        method,
        path,
        (nested) =>
          `${JSON.stringify(valid).slice(0, -1)}${Object.keys(valid).length ? ',' : ''}"deep":${nested}}`,
      ]),
      ['POST', '/events', (nested) => `{"type":"order.created","payload":${nested}}`],
      [
        'POST',
        '/connections',
        (nested) => `{"id":"c1","auth":{"scheme":"bearer","token":"t0ken-value"},"metadata":${nested}}`,
      ],
      ['PATCH', '/connections/c1', (nested) => `{"metadata":${nested}}`],
      ['PATCH', '/destinations/fixed', (nested) => `{"headers":${nested}}`],
    ];
    for (const [method, path, body] of bodies) {
      for (const levels of [65, 5000, 100_000]) {
        const res = await t.app.inject({
          method,
          url: `/api/v1${path}`,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          payload: body(deep(levels)),
        });
        expect(res.statusCode, `${method} ${path} at ${levels}`).toBe(400);
        expect(res.json().error, `${method} ${path}`).toMatchObject({
          code: 'INVALID_ARGUMENT',
          message: 'body: JSON nests deeper than 64 levels',
        });
      }
    }
    // 63 levels below the body is fine (and reaches the handler, which may refuse it for other reasons).
    const shallow = await t.app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: `{"type":"order.created","payload":${deep(62)}}`,
    });
    expect(shallow.statusCode).toBe(201);
  });

  it('answers every hostile path segment and query parameter without a 5xx', async () => {
    for (const value of HOSTILE_VALUES) {
      const v = encodeURIComponent(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
      for (const path of [
        `/deliveries?status=${v}`,
        `/deliveries?limit=${v}`,
        `/deliveries?since=${v}`,
        `/deliveries?after=${v}`,
        `/deliveries?destination=${v}`,
        `/events?limit=${v}`,
        `/events?after=${v}`,
        `/events?since=${v}`,
        `/events?type=${v}`,
        `/queues/${v}/dead`,
        `/queues/deliveries/dead?limit=${v}`,
        `/destinations/${v}`,
        `/deliveries/${v}`,
        `/events/${v}`,
      ]) {
        await send('GET', path);
      }
      await send('DELETE', `/destinations/${v}`);
      await send('POST', `/destinations/${v}/enable`, { json: {} });
      await send('POST', `/deliveries/${v}/replay`, { json: {} });
    }
    await send('GET', '/events/%E0%A4%A');
    await send('GET', '/deliveries?status=%E0%A4%A');
    expect(problems).toEqual([]);
    expectReachedHandlers();
    expect(statuses.get(404)).toBeGreaterThan(0);
  });

  it('refuses an over-long or malformed path in the API error shape, without echoing it', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deliveries/${'x'.repeat(100_000)}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.statusCode).toBe(414);
    expect(res.json()).toMatchObject({
      error: { code: 'INVALID_ARGUMENT', message: 'a path segment is longer than 200 characters' },
    });
    expect(res.body.length).toBeLessThan(300);
    expect(res.headers['x-request-id']).toBeTruthy();

    const malformed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/deliveries/%E0%A4%A',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });
});
