import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/index.js';
import { ErrorCode, isPatchbayError } from '../../src/core/errors.js';
import { createHttpClient, type HttpClient } from '../../src/http/index.js';
import { syncsFromConfig } from '../../src/sync/config-syncs.js';
import { defineSyncModel } from '../../src/sync/index.js';
import type { SyncService } from '../../src/sync/sync-service.js';
import {
  type RunningRecordsFake,
  recordsSyncRequest,
  startRecordsFake,
} from '../../src/testing/records-fake/index.js';
import { dialects } from '../helpers/databases.js';
import { type SyncHarness, serviceHarness, storedRecords } from './helpers.js';

const noModels = { models: new Map(), connectionExists: async (id: string) => id === 'api' };

function client(fake: RunningRecordsFake): HttpClient {
  return createHttpClient({
    baseUrl: fake.url,
    allowInsecureHttp: true,
    auth: { authorize: async () => ({ headers: { authorization: 'Bearer t' } }) },
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 },
  });
}

/** The config entries, through the real config parser. */
function entries(syncs: unknown[]) {
  return parseConfig({ syncs }).syncs;
}

function problems(fn: () => Promise<unknown>): Promise<string[]> {
  return fn().then(
    () => {
      throw new Error('expected a config error');
    },
    (err) => {
      expect(isPatchbayError(err, ErrorCode.CONFIG_INVALID)).toBe(true);
      return (err as { problems: string[] }).problems;
    },
  );
}

describe('declarative syncs from the config file', () => {
  let fake: RunningRecordsFake;
  let h: SyncHarness & { service: SyncService };
  let http: HttpClient;

  beforeAll(async () => {
    fake = await startRecordsFake();
    http = client(fake);
  });
  afterAll(async () => {
    await http?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    await fetch(`${fake.url}/_fake/reset`, { method: 'POST' });
    await fetch(`${fake.url}/_fake/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 45 }),
    });
    h = await serviceHarness(dialects[0]!, { clients: { api: http } });
  });
  afterEach(async () => h?.cleanup());

  const live = () => new Map(fake.state.live().map((r) => [r.id, r]));

  async function start(syncs: unknown[]) {
    for (const definition of await syncsFromConfig(entries(syncs), noModels))
      await h.service.define(definition);
    await h.service.start({ schedule: false });
  }

  const base = {
    id: 'people',
    connection: 'api',
    request: recordsSyncRequest({ incremental: { lookback: '1s' }, tombstones: true, query: { limit: 10 } }),
  };

  it('syncs incrementally with a cursor, re-reading the boundary, tombstones deleting', async () => {
    await start([base]);
    expect(await h.service.runNow('people')).toMatchObject({
      status: 'succeeded',
      counts: { created: 45, pages: 5 },
    });
    expect(await storedRecords(h.stores, 'people')).toEqual(live());
    await fetch(`${fake.url}/_fake/mutate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ creates: 3, updates: 4, deletes: 2, seed: 1 }),
    });
    const second = await h.service.runNow('people');
    expect(second).toMatchObject({ status: 'succeeded', counts: { created: 3, updated: 4, deleted: 2 } });
    expect(await storedRecords(h.stores, 'people')).toEqual(live());
    // Nothing changed: the re-read boundary makes no change and no event.
    expect(await h.service.runNow('people')).toMatchObject({
      counts: { created: 0, updated: 0, deleted: 0 },
    });
  });

  for (const [style, pagination, extra] of [
    ['link', { style: 'link' }, {}],
    ['next-url', { style: 'next-url', nextPath: 'next' }, {}],
    ['offset', { style: 'offset', size: 10 }, {}],
    ['page', { style: 'page', size: 10 }, {}],
  ] as const) {
    it(`reads every record with ${style} pagination`, async () => {
      await fetch(`${fake.url}/_fake/settings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pagination: style }),
      });
      await start([{ ...base, request: { ...base.request, pagination, incremental: undefined, ...extra } }]);
      expect(await h.service.runNow('people')).toMatchObject({
        status: 'succeeded',
        counts: { created: 45 },
      });
      expect(await storedRecords(h.stores, 'people')).toEqual(live());
    });
  }

  it('reads XML and CSV bodies, mapping and validating them', async () => {
    const transform = {
      rename: { name: 'fullName' },
      coerce: { score: 'integer' },
      enums: { status: { active: 'A', inactive: 'I' } },
      computed: { label: '{fullName} <{email}>' },
      omit: ['created_at'],
    };
    const schema = {
      type: 'object',
      required: ['id', 'fullName', 'score'],
      properties: { score: { type: 'integer' }, status: { enum: ['A', 'I'] } },
    };
    await start([
      {
        ...base,
        id: 'xml',
        request: {
          ...base.request,
          format: 'xml',
          records: 'response.data.record',
          query: { format: 'xml', limit: 10 },
          pagination: { style: 'cursor', cursorPath: 'response.next_cursor', cursorParam: 'cursor' },
        },
        transform,
        schema,
      },
      {
        ...base,
        id: 'csv',
        request: {
          ...base.request,
          format: 'csv',
          records: undefined,
          query: { format: 'csv', limit: 10 },
          pagination: { style: 'link' },
        },
        transform,
        schema,
      },
    ]);
    for (const id of ['xml', 'csv']) {
      expect(await h.service.runNow(id)).toMatchObject({
        status: 'succeeded',
        counts: { created: 45, quarantined: 0 },
      });
      const one = (await storedRecords(h.stores, id)).get('rec_0000003') as Record<string, unknown>;
      expect(one).toMatchObject({
        id: 'rec_0000003',
        fullName: 'Edsger 3',
        score: 3,
        status: 'I',
        label: 'Edsger 3 <user3@example.com>',
      });
      expect(one).not.toHaveProperty('created_at');
    }
  });

  it('restarts from the watermark when the cursor expires mid-pass, and converges', async () => {
    await start([base]);
    await h.service.runNow('people');
    await fetch(`${fake.url}/_fake/mutate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ updates: 25, seed: 2 }),
    });
    // The next run is slow to ask for its second page: by then its cursor has expired (410).
    let expired = false;
    const slow: HttpClient = Object.create(http, {
      request: {
        value: async (request: Parameters<HttpClient['request']>[0]) => {
          if (!expired && request.query?.cursor !== undefined) {
            expired = true;
            await fetch(`${fake.url}/_fake/clock`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ advanceMs: 300_001 }),
            });
          }
          return http.request(request);
        },
      },
    });
    h.ports.clients = () => slow;
    const outcome = await h.service.runNow('people');
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { updated: 25 } });
    expect(expired).toBe(true);
    const run = await h.service.run('people', (outcome as { runId: string }).runId);
    expect(run.report).toMatchObject({ cursorRestarts: 1 });
    expect(await storedRecords(h.stores, 'people')).toEqual(live());
  });

  it('fails the run naming the config path when the records path finds nothing', async () => {
    await start([{ ...base, request: { ...base.request, records: 'items' } }]);
    const outcome = await h.service.runNow('people');
    expect(outcome.status !== 'busy' && outcome.error?.message).toMatch(
      /^syncs\[0\]\.request\.records: "items" found nothing in the response \(its top level has: data, next_cursor\)/,
    );
    expect(await h.stores.records.count('people')).toBe(0);
  });

  it('reports every bad entry at once, each by its path', async () => {
    const list = await problems(() =>
      syncsFromConfig(
        entries([
          { ...base, connection: 'nope' },
          { ...base, id: 'b', schedule: 'every tuesday' },
          { id: 'c', connection: 'api', model: 'hubspot.contacts' },
          { ...base, id: 'd', schema: { type: 'bogus' } },
        ]),
        noModels,
      ),
    );
    expect(list).toEqual([
      'syncs[0].connection: unknown connection "nope"',
      expect.stringMatching(/^syncs\[1\]\.schedule: "every tuesday" is neither a duration/),
      'syncs[2].model: unknown model "hubspot.contacts" (no connector offers models yet)',
      expect.stringMatching(/^syncs\[3\]\.schema: not a JSON Schema/),
    ]);
  });

  it('builds a sync from a connector model and its options, refusing bad options by path', async () => {
    const model = defineSyncModel({
      name: 'records.people',
      options: {
        safeParse: (v: unknown) =>
          typeof (v as { limit?: unknown }).limit === 'number'
            ? { success: true as const, data: v as { limit: number } }
            : {
                success: false as const,
                error: { issues: [{ path: ['limit'], message: 'must be a number' }] },
              },
      },
      define: (options: { limit: number }) => ({
        key: 'id',
        schema: {
          safeParse: (v: unknown) => ({ success: true as const, data: v as Record<string, unknown> }),
        },
        async *fetch(ctx) {
          const { body } = await ctx.http.request<{ data: unknown[] }>({
            path: '/records',
            query: { limit: options.limit },
          });
          yield { records: body.data };
        },
      }),
    });
    const context = { models: new Map([[model.name, model]]), connectionExists: async () => true };
    expect(
      await problems(() =>
        syncsFromConfig(
          entries([{ id: 'm', connection: 'api', model: 'records.people', options: {} }]),
          context,
        ),
      ),
    ).toEqual(['syncs[0].options.limit: must be a number']);
    const [definition] = await syncsFromConfig(
      entries([
        { id: 'm', connection: 'api', model: 'records.people', options: { limit: 5 }, schedule: '1h' },
      ]),
      context,
    );
    expect(definition).toMatchObject({
      id: 'm',
      model: 'records.people',
      schedule: { kind: 'interval', everyMs: 3_600_000 },
    });
    await h.service.define(definition!);
    await h.service.start({ schedule: false });
    expect(await h.service.runNow('m')).toMatchObject({ status: 'succeeded', counts: { created: 5 } });
  });
});
