import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/index.js';
import { startTracing } from '../../src/core/tracing.js';
import { createHttpClient } from '../../src/http/index.js';
import { syncsFromConfig } from '../../src/sync/config-syncs.js';
import { type RunningRecordsFake, startRecordsFake } from '../../src/testing/records-fake/index.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine } from '../helpers/engine.js';
import { type OidcServer, startOidcServer } from '../helpers/oidc-server.js';
import { attributesOf, type Collector, startCollector } from '../helpers/otlp-collector.js';
import { serviceHarness } from './helpers.js';

/** Sync runs, their pages and OAuth refreshes as spans at a real OTLP/HTTP receiver. */
describe('tracing of sync runs and OAuth refreshes', () => {
  let collector: Collector;
  let fake: RunningRecordsFake;
  let oidc: OidcServer;

  beforeAll(async () => {
    collector = await startCollector();
    fake = await startRecordsFake();
    oidc = await startOidcServer({ redirectUris: ['http://127.0.0.1:9/oauth/callback'] });
  });
  afterAll(async () => {
    collector?.server.close();
    await fake?.close();
    await oidc?.close();
  });

  it('exports a run span with a child per page, and the fetch’s HTTP calls beneath the run', async () => {
    collector.spans.length = 0;
    await fetch(`${fake.url}/_fake/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 25 }),
    });
    const tracing = (await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }))!;
    expect(tracing).toBeDefined();
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
            request: {
              path: '/records',
              records: 'data',
              id: 'id',
              pagination: { style: 'cursor', cursorPath: 'next_cursor', cursorParam: 'cursor' },
              query: { limit: 10 },
            },
          },
        ],
      }).syncs;
      const noModels = { models: new Map(), connectionExists: async (id: string) => id === 'api' };
      for (const definition of await syncsFromConfig(entries, noModels)) await h.service.define(definition);
      await h.service.start({ schedule: false });
      const outcome = await h.service.runNow('people');
      expect(outcome).toMatchObject({ status: 'succeeded', counts: { created: 25, pages: 3 } });
      const runId = (outcome as { runId: string }).runId;
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
      await h.cleanup();
      await http.close();
    }
  }, 60_000);

  it('exports a span per OAuth refresh with the connection and outcome, never the token', async () => {
    collector.spans.length = 0;
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
      { env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } },
    );
    const client = createHttpClient({
      baseUrl: oidc.resourceUrl,
      connection: 'api',
      connections: t.engine.vault.resolver,
      allowInsecureHttp: true,
      retry: false,
    });
    let token = '';
    try {
      const answer = await client.request({ method: 'GET', path: '/whoami' });
      expect(answer.status).toBe(200);
      const auth = await t.engine.vault.resolver.authProvider('api');
      const granted = await auth.authorize({ method: 'GET', url: new URL(oidc.resourceUrl), headers: {} });
      token = granted.headers?.authorization ?? '';
    } finally {
      await client.close();
      await t.close(); // flushes the spans
    }
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
});
