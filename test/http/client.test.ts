import {
  type Attributes,
  type AttributeValue,
  type Span,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode } from '../../src/core/errors.js';
import { createHttpClient } from '../../src/http/index.js';
import type { ChaosUpstream, FakeClock } from '../../src/testing/index.js';
import { chaosClients } from './chaos-clients.js';
import { drive, rejection } from './helpers.js';

let upstream: ChaosUpstream;
let clock: FakeClock;
const { client, track } = chaosClients((u, c) => {
  upstream = u;
  clock = c;
});

describe('createHttpClient against a chaos upstream', () => {
  it('sends method, path, query and headers and parses a JSON answer', async () => {
    const c = client({ headers: { 'x-default': 'd' } });
    const res = await c.request({
      path: '/items',
      query: { a: 1, b: ['x', 'y'], skip: undefined },
      headers: { 'x-one': '1' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, method: 'GET', url: '/items?a=1&b=x&b=y' });
    expect(res.attempts).toBe(1);
    expect(upstream.requests[0]!.headers['x-one']).toBe('1');
    expect(upstream.requests[0]!.headers['x-default']).toBe('d');
  });

  it('sends a plain object as JSON and keeps the base path', async () => {
    const c = client({ baseUrl: `${upstream.url}/api/v3/` });
    await c.request({ method: 'PUT', path: '/crm/1', body: { name: 'Ada' } });
    expect(upstream.requests[0]).toMatchObject({
      method: 'PUT',
      url: '/api/v3/crm/1',
      body: '{"name":"Ada"}',
    });
    expect(upstream.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('retries 503s and honours Retry-After over the computed backoff', async () => {
    upstream.script([{ status: 503, retryAfter: 7 }, { status: 503, retryAfter: 3 }, { status: 200 }]);
    const c = client();
    const started = clock.now();
    const res = await drive(clock, c.request({ path: '/r' }));
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(3);
    expect(upstream.stats.requests).toBe(3);
    expect(clock.now() - started).toBeGreaterThanOrEqual(10_000);
  });

  it('fails a 404 at once with HTTP_CLIENT_ERROR, its status and a truncated body', async () => {
    upstream.script([{ status: 404, body: { message: 'x'.repeat(5000) } }]);
    const error = await rejection(client().request({ path: '/missing' }));
    expect(error.code).toBe(ErrorCode.HTTP_CLIENT_ERROR);
    expect(error.status).toBe(404);
    expect((error.body as string).length).toBeLessThan(2200);
    expect(upstream.stats.requests).toBe(1);
  });

  it('ends with RETRIES_EXHAUSTED carrying the last cause when 5xx persist', async () => {
    upstream.setFallback({ status: 500 });
    const error = await rejection(
      drive(clock, client({ retry: { maxAttempts: 4, budget: false } }).request({ path: '/x' })),
    );
    expect(error.code).toBe(ErrorCode.RETRIES_EXHAUSTED);
    expect(error.status).toBe(500);
    expect((error.cause as { code: string }).code).toBe(ErrorCode.HTTP_SERVER_ERROR);
    expect(upstream.stats.requests).toBe(4);
  });

  it('does not retry a POST without an idempotency key; retries one with a key, sending Idempotency-Key', async () => {
    upstream.script([{ status: 503 }, { status: 503 }, { status: 201 }]);
    const c = client();
    const error = await rejection(drive(clock, c.request({ method: 'POST', path: '/p', body: {} })));
    expect(error.code).toBe(ErrorCode.HTTP_SERVER_ERROR);
    expect(upstream.stats.requests).toBe(1);
    const res = await drive(
      clock,
      c.request({ method: 'POST', path: '/p', body: {}, idempotencyKey: 'k-1' }),
    );
    expect(res.status).toBe(201);
    expect(upstream.requests.slice(1).map((r) => r.headers['idempotency-key'])).toEqual(['k-1', 'k-1']);
  });

  it('retries a 429 (RATE_LIMITED) even for a POST: the upstream refused before acting', async () => {
    upstream.script([{ status: 429, retryAfter: 2 }, { status: 200 }]);
    const res = await drive(clock, client().request({ method: 'POST', path: '/p', body: {} }));
    expect(res.attempts).toBe(2);
  });

  it('turns a reset connection into NETWORK_ERROR, retried for a GET only', async () => {
    upstream.script([{ reset: true }, { status: 200 }]);
    const c = client();
    expect((await drive(clock, c.request({ path: '/g' }))).attempts).toBe(2);
    upstream.script([{ reset: true }, { status: 200 }]);
    const error = await rejection(drive(clock, c.request({ method: 'POST', path: '/p', body: 'x' })));
    expect(error.code).toBe(ErrorCode.NETWORK_ERROR);
  });

  it('times a hung attempt out with TIMEOUT', async () => {
    upstream.script([{ hang: true }]);
    const c = client({ timeoutMs: 5_000, retry: false });
    const error = await rejection(drive(clock, c.request({ path: '/hang' }), 10_000));
    expect(error.code).toBe(ErrorCode.TIMEOUT);
  });

  it('times a hung attempt out on the system clock too, where attempts share one timer', async () => {
    upstream.script([{ status: 200 }, { hang: true }, { status: 200 }]);
    const c = client({ clock: undefined, timeoutMs: 150, retry: false });
    const started = Date.now();
    const results = await Promise.allSettled([
      c.request({ path: '/a' }),
      c.request({ path: '/b' }),
      c.request({ path: '/c' }),
    ]);
    // Whichever request the upstream hangs on times out; the others, sharing its timer, are untouched.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatchObject({ code: ErrorCode.TIMEOUT, message: 'timed out after 150 ms' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('stops at once with ABORTED when the caller aborts, also during a backoff wait', async () => {
    upstream.script([{ status: 503, retryAfter: 30 }]);
    const c = client();
    const controller = new AbortController();
    const pending = c.request({ path: '/a', signal: controller.signal });
    while (clock.pending === 0) await new Promise((r) => setTimeout(r, 2));
    controller.abort();
    expect((await rejection(pending)).code).toBe(ErrorCode.ABORTED);
  });

  it('opens the breaker after consecutive failures and then fails fast with CIRCUIT_OPEN', async () => {
    upstream.setFallback({ status: 502 });
    const c = client({ retry: false, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 10_000 } });
    for (let i = 0; i < 3; i++) await rejection(c.request({ path: '/b' }));
    const error = await rejection(c.request({ path: '/b' }));
    expect(error.code).toBe(ErrorCode.CIRCUIT_OPEN);
    expect(upstream.stats.requests).toBe(3);
    expect(c.breaker?.state).toBe('open');
  });

  it('validates the body with a schema and types it', async () => {
    upstream.script([{ body: { id: '1', properties: { email: 'a@b.c' } } }, { body: { id: 1 } }]);
    const Contact = z.object({ id: z.string(), properties: z.object({ email: z.string() }) });
    const c = client();
    const res = await c.request({ path: '/c', schema: Contact });
    expect(res.body.properties.email).toBe('a@b.c');
    const error = await rejection(c.request({ path: '/c', schema: Contact }));
    expect(error.code).toBe(ErrorCode.RESPONSE_INVALID);
    expect(error.message).toMatch(/id/);
  });

  it.each([
    ['application/json', '{"a":1}', { a: 1 }],
    ['application/vnd.api+json; charset=utf-8', '{"a":1}', { a: 1 }],
    ['application/json', '{"a":', '{"a":'],
    ['application/json', '\ufeff{"a":1}', { a: 1 }],
    ['text/plain; charset=utf-8', 'h\u00e9llo', 'h\u00e9llo'],
    ['application/problem+xml', '<a/>', '<a/>'],
    ['', 'plain', 'plain'],
    ['application/octet-stream', 'bytes', Buffer.from('bytes')],
    ['application/json', '', undefined],
  ])('decodes a %j answer by its content type (%j)', async (type, body, expected) => {
    upstream.script([{ body, headers: { 'content-type': type } }]);
    expect((await client().request({ path: '/x' })).body).toEqual(expected);
  });

  it('marks a 207 answer as partial', async () => {
    upstream.script([{ status: 207, body: { status: 'COMPLETE', results: [], numErrors: 1, errors: [{}] } }]);
    const res = await client().request({ method: 'POST', path: '/batch/read', body: { inputs: [] } });
    expect(res.partial).toBe(true);
  });

  it('records attempts, outcomes and latency by upstream in the registry', async () => {
    upstream.script([{ status: 503 }, { status: 200 }]);
    const registry = new Registry();
    await drive(clock, client({ registry, name: 'crm' }).request({ path: '/m' }));
    const text = await registry.metrics();
    expect(text).toMatch(/patchbay_http_client_attempts_total\{upstream="crm",status="503"\} 1/);
    expect(text).toMatch(/patchbay_http_client_attempts_total\{upstream="crm",status="200"\} 1/);
    expect(text).toMatch(/patchbay_http_client_calls_total\{upstream="crm",outcome="success"\} 1/);
    expect(text).toMatch(
      /patchbay_http_client_duration_seconds_count\{upstream="crm",method="GET",outcome="success"\} 1/,
    );
  });

  it('makes one client span per call once a tracer provider is registered, with its outcome', async () => {
    const c = client({ name: 'crm' }); // made before the provider: spans must still reach it
    const { tracer, spans } = recordingTracer();
    trace.setGlobalTracerProvider({ getTracer: () => tracer });
    try {
      upstream.script([{ status: 200 }, { status: 404 }]);
      await c.request({ path: '/contacts/1' });
      await rejection(c.request({ path: '/contacts/2' }));
    } finally {
      trace.disable();
    }
    expect(spans).toEqual([
      {
        name: 'HTTP GET',
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'GET',
          'server.address': '127.0.0.1',
          'url.path': '/contacts/1',
          'patchbay.upstream': 'crm',
          'http.response.status_code': 200,
          'patchbay.attempts': 1,
        },
        status: undefined,
        ended: true,
      },
      {
        name: 'HTTP GET',
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'GET',
          'server.address': '127.0.0.1',
          'url.path': '/contacts/2',
          'patchbay.upstream': 'crm',
          'http.response.status_code': 404,
          'error.type': ErrorCode.HTTP_CLIENT_ERROR,
          'patchbay.attempts': 1,
        },
        status: { code: SpanStatusCode.ERROR, message: expect.stringMatching(/answered 404/) },
        ended: true,
      },
    ]);
  });

  it('uses the tracer passed in', async () => {
    const { tracer, spans } = recordingTracer();
    await client({ tracer }).request({ path: '/t' });
    expect(spans).toMatchObject([{ name: 'HTTP GET', ended: true, attributes: { 'url.path': '/t' } }]);
  });
});

/** A tracer that records every span it starts (the SDK is not a dependency). */
function recordingTracer() {
  const spans: {
    name: string;
    kind: SpanKind | undefined;
    attributes: Attributes;
    status: SpanStatus | undefined;
    ended: boolean;
  }[] = [];
  const tracer = {
    startSpan(name: string, options: SpanOptions = {}) {
      const record = {
        name,
        kind: options.kind,
        attributes: { ...options.attributes },
        status: undefined as SpanStatus | undefined,
        ended: false,
      };
      spans.push(record);
      const span = {
        isRecording: () => !record.ended,
        setAttribute(key: string, value: AttributeValue) {
          record.attributes[key] = value;
          return span;
        },
        setStatus(status: SpanStatus) {
          record.status = status;
          return span;
        },
        end() {
          record.ended = true;
        },
      };
      return span as unknown as Span;
    },
  } as unknown as Tracer;
  return { tracer, spans };
}

describe('rate limits on the client', () => {
  it('keeps a rolling-window upstream free of 429s by waiting for slots (real time, 15 calls at 5 per 300 ms)', async () => {
    upstream.setRateLimit({ limit: 5, windowMs: 300 });
    const c = createHttpClient({
      baseUrl: upstream.url,
      allowInsecureHttp: true,
      rateLimit: { limit: 5, windowMs: 300 },
    });
    track(c);
    const started = Date.now();
    await Promise.all(Array.from({ length: 15 }, (_, i) => c.request({ path: `/r/${i}` })));
    expect(upstream.stats.limited).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('fails with RATE_LIMITED when no slot comes before the deadline, without sending', async () => {
    const c = client({ rateLimit: { limit: 1, windowMs: 60_000 }, deadlineMs: 1_000 });
    await c.request({ path: '/1' });
    const error = await rejection(c.request({ path: '/2' }));
    expect(error.code).toBe(ErrorCode.RATE_LIMITED);
    expect(upstream.stats.requests).toBe(1);
  });

  it('adapts to a 429 with HubSpot headers: the shared limit waits one interval before going again', async () => {
    upstream.script([
      {
        status: 429,
        headers: {
          'x-hubspot-ratelimit-remaining': '0',
          'x-hubspot-ratelimit-interval-milliseconds': '10000',
        },
      },
    ]);
    const c = client({ rateLimit: { limit: 100, windowMs: 10_000 } });
    const started = clock.now();
    await drive(clock, c.request({ path: '/h' }));
    expect(clock.now() - started).toBeGreaterThanOrEqual(10_000);
    expect(upstream.stats.requests).toBe(2);
  });
});

describe('pagination and options', () => {
  it('caps concurrency with kind: concurrency', async () => {
    upstream.setFallback({ delayMs: 30 });
    const c = createHttpClient({
      baseUrl: upstream.url,
      allowInsecureHttp: true,
      rateLimit: { kind: 'concurrency', limit: 2 },
    });
    track(c);
    let inFlight = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await c.request({ path: '/c' });
        inFlight--;
      }),
    );
    const arrivals = upstream.requests.map((r) => r.at).sort((a, b) => a - b);
    // Three waves of two: the fifth request cannot arrive before the first two finished (30 ms).
    expect(arrivals[4]! - arrivals[0]!).toBeGreaterThanOrEqual(50);
  });
});
