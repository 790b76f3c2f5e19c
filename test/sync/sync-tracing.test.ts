import {
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  type Span,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/index.js';
import { startTracing } from '../../src/core/tracing.js';
import { createHttpClient } from '../../src/http/index.js';
import { syncsFromConfig } from '../../src/sync/config-syncs.js';
import {
  type RunningRecordsFake,
  recordsSyncRequest,
  startRecordsFake,
} from '../../src/testing/records-fake/index.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine } from '../helpers/engine.js';
import { type OidcServer, startOidcServer } from '../helpers/oidc-server.js';
import { attributesOf, type Collector, startCollector } from '../helpers/otlp-collector.js';
import { serviceHarness } from './helpers.js';

/**
 * A tracer provider that only writes down the name of every span asked of it (each a non-recording
 * span), registered as the global one while Patchbay's tracing is off: a call site that skipped its
 * `tracingOn()` check would show here, though the API's own no-op tracer would hide it from a collector.
 */
function spanNameSpy(): { names: string[]; provider: TracerProvider } {
  const names: string[] = [];
  const startSpan = (name: string): Span => {
    names.push(name);
    return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  };
  const tracer: Tracer = {
    startSpan,
    startActiveSpan(name: string, ...rest: unknown[]) {
      const fn = rest.at(-1) as (span: Span) => unknown;
      const parent = (rest.length === 3 ? rest[1] : undefined) as Context | undefined;
      const span = startSpan(name);
      return context.with(trace.setSpan(parent ?? context.active(), span), () => fn(span));
    },
  } as Tracer;
  return { names, provider: { getTracer: () => tracer } };
}

/** Sync runs, their pages and OAuth refreshes as spans at a real OTLP/HTTP receiver. */
describe('tracing of sync runs and OAuth refreshes', () => {
  let collector: Collector;
  let fake: RunningRecordsFake;
  let oidc: OidcServer;

  beforeAll(async () => {
    collector = await startCollector();
    fake = await startRecordsFake();
    oidc = await startOidcServer({ redirectUris: ['http://127.0.0.1:9/oauth/callback'] });
    await fetch(`${fake.url}/_fake/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 25 }),
    });
  });
  afterAll(async () => {
    collector?.server.close();
    await fake?.close();
    await oidc?.close();
  });

  /** A full run of the records fake's 25 records, 10 a page: three pages, three HTTP calls. */
  async function runThreePages(): Promise<string> {
    const http = createHttpClient({
      baseUrl: fake.url,
      allowInsecureHttp: true,
      auth: { authorize: async () => ({ headers: { authorization: 'Bearer t' } }) },
    });
    const h = await serviceHarness(dialects[0]!, { clients: { api: http } });
    try {
      const entries = parseConfig({
        syncs: [
          {
            id: 'people',
            connection: 'api',
            request: recordsSyncRequest({ query: { limit: 10 } }),
          },
        ],
      }).syncs;
      const noModels = { models: new Map(), connectionExists: async (id: string) => id === 'api' };
      for (const definition of await syncsFromConfig(entries, noModels)) await h.service.define(definition);
      await h.service.start({ schedule: false });
      const outcome = await h.service.runNow('people');
      expect(outcome).toMatchObject({ status: 'succeeded', counts: { created: 25, pages: 3 } });
      return (outcome as { runId: string }).runId;
    } finally {
      await h.cleanup();
      await http.close();
    }
  }

  /** One call through a client-credentials connection (one token request); returns the access token. */
  async function callWithRefresh(env: Record<string, string>): Promise<string> {
    const t = await openTestEngine(
      dialects[0]!,
      {
        vault: { allowInsecureLoopback: true, refreshSkew: '5s' },
        connections: [
          {
            id: 'api',
            provider: 'custom',
            baseUrl: oidc.resourceUrl,
            auth: {
              scheme: 'oauth2-client-credentials',
              issuer: oidc.issuer,
              clientId: oidc.clients.service.id,
              clientSecret: oidc.clients.service.secret,
              scopes: ['api:read'],
            },
          },
        ],
      },
      { env },
    );
    const client = createHttpClient({
      baseUrl: oidc.resourceUrl,
      connection: 'api',
      connections: t.engine.vault.resolver,
      allowInsecureHttp: true,
      retry: false,
    });
    try {
      const answer = await client.request({ method: 'GET', path: '/whoami' });
      expect(answer.status).toBe(200);
      const auth = await t.engine.vault.resolver.authProvider('api');
      const granted = await auth.authorize({ method: 'GET', url: new URL(oidc.resourceUrl), headers: {} });
      return granted.headers?.authorization ?? '';
    } finally {
      await client.close();
      await t.close(); // flushes the spans
    }
  }

  it('exports a run span with a child per page, and the fetch’s HTTP calls beneath the run', async () => {
    collector.spans.length = 0;
    const tracing = (await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }))!;
    expect(tracing).toBeDefined();
    try {
      const runId = await runThreePages();
      await tracing.shutdown(); // flushes the spans

      const spans = collector.spans;
      const [run, ...others] = spans.filter((s) => s.name === 'sync.run');
      expect(others).toEqual([]);
      expect(attributesOf(run!)).toMatchObject({
        'patchbay.sync': 'people',
        'patchbay.sync.run': runId,
        'patchbay.sync.mode': 'full',
        'patchbay.sync.outcome': 'succeeded',
        'patchbay.sync.pages': 3,
        'patchbay.sync.created': 25,
      });
      const pages = spans.filter((s) => s.name === 'sync.page');
      expect(pages.map((p) => p.parentSpanId)).toEqual([run!.spanId, run!.spanId, run!.spanId]);
      expect(pages.map((p) => attributesOf(p)['patchbay.sync.records'])).toEqual([10, 10, 5]);
      for (const page of pages) {
        expect(attributesOf(page)['patchbay.sync.run']).toBe(runId);
        // Cursor-free: whether the page had a checkpoint, never the checkpoint.
        expect(JSON.stringify(page.attributes)).not.toMatch(/cursor/i);
      }
      const calls = spans.filter((s) => s.name === 'HTTP GET');
      expect(calls).toHaveLength(3);
      for (const call of calls) {
        expect(call.traceId).toBe(run!.traceId);
        expect(call.parentSpanId).toBe(run!.spanId);
      }
    } finally {
      await tracing.shutdown();
    }
  }, 60_000);

  it('exports a span per OAuth refresh with the connection and outcome, never the token', async () => {
    collector.spans.length = 0;
    const token = await callWithRefresh({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    const refreshes = collector.spans.filter((s) => s.name === 'oauth.refresh');
    expect(refreshes).toHaveLength(1);
    expect(attributesOf(refreshes[0]!)).toEqual({
      'patchbay.connection': 'api',
      'patchbay.oauth.grant_type': 'client_credentials',
      'patchbay.oauth.outcome': 'ok',
    });
    const exported = JSON.stringify(collector.spans);
    expect(token).toMatch(/^Bearer ./);
    expect(exported).not.toContain(token.slice('Bearer '.length));
    expect(exported).not.toContain(oidc.clients.service.secret);
  }, 60_000);

  // Decision 0111: tracing off is absent. The HTTP client's call span is the one that is asked for
  // regardless (it is the API's no-op without an SDK): it shows the spy sees what the code asks for.
  it('asks for no sync.run, sync.page or oauth.refresh span with tracing off', async () => {
    const spy = spanNameSpy();
    trace.disable();
    expect(trace.setGlobalTracerProvider(spy.provider)).toBe(true);
    try {
      collector.spans.length = 0;
      await runThreePages();
      const token = await callWithRefresh({});
      expect(token).toMatch(/^Bearer ./);
      expect(spy.names.filter((n) => n === 'HTTP GET').length).toBeGreaterThanOrEqual(4);
      expect(spy.names.filter((n) => !n.startsWith('HTTP '))).toEqual([]);
      expect(collector.spans).toEqual([]);
    } finally {
      trace.disable();
    }
  }, 60_000);
});
