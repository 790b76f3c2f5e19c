import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningRecordsFake, startRecordsFake } from '../../src/testing/records-fake/index.js';

const auth = { authorization: 'Bearer test' };

async function get(fake: RunningRecordsFake, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.url}${path}`, { headers: { ...auth, ...headers } });
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    headers: res.headers,
    body: type.includes('json') ? await res.json() : await res.text(),
  };
}

async function post(
  fake: RunningRecordsFake,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: res.status === 204 ? undefined : await res.json(),
  };
}

describe('records fake', () => {
  let fake: RunningRecordsFake;
  beforeAll(async () => {
    fake = await startRecordsFake({ seed: 0, pageSize: 7 });
  });
  afterAll(async () => fake?.close());
  beforeEach(async () => {
    await fetch(`${fake.url}/_fake/reset`, { method: 'POST' });
    await post(fake, '/_fake/settings', { pagination: 'cursor', pageSize: 7, cursorTtlMs: 300_000 });
    await post(fake, '/_fake/seed', { count: 30 });
  });

  it('answers 401 without a bearer token, in its error shape', async () => {
    const res = await fetch(`${fake.url}/records`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
  });

  for (const style of ['cursor', 'link', 'next-url', 'offset', 'page'] as const) {
    it(`lists every record exactly once with ${style} pagination`, async () => {
      await post(fake, '/_fake/settings', { pagination: style });
      const seen: string[] = [];
      let path: string | undefined = '/records';
      let page = 1;
      for (let guard = 0; path && guard < 20; guard++) {
        const { body, headers } = await get(fake, path);
        const data = (body as { data: { id: string }[] }).data;
        seen.push(...data.map((r) => r.id));
        const b = body as Record<string, unknown>;
        if (style === 'cursor') path = b.next_cursor ? `/records?cursor=${b.next_cursor}` : undefined;
        if (style === 'link')
          path = headers
            .get('link')
            ?.match(/<([^>]+)>; rel="next"/)?.[1]
            ?.replace(fake.url, '');
        if (style === 'next-url')
          path = typeof b.next === 'string' ? b.next.replace(fake.url, '') : undefined;
        if (style === 'offset')
          path = seen.length < (b.total as number) ? `/records?offset=${seen.length}` : undefined;
        if (style === 'page') path = page < (b.total_pages as number) ? `/records?page=${++page}` : undefined;
      }
      expect(seen).toEqual(fake.state.liveIds());
    });
  }

  it('filters by modified_since inclusively and lists tombstones when asked', async () => {
    const all = (await get(fake, '/records?limit=1000')).body as {
      data: { id: string; updated_at: string }[];
    };
    const pivot = all.data[20]!;
    await fetch(`${fake.url}/records/${all.data[0]!.id}`, { method: 'DELETE', headers: auth });
    const since = (
      await get(fake, `/records?limit=1000&modified_since=${pivot.updated_at}&include_deleted=true`)
    ).body as { data: { id: string; deleted?: boolean }[] };
    expect(since.data.map((r) => r.id)).toEqual([...all.data.slice(20).map((r) => r.id), all.data[0]!.id]);
    expect(since.data.at(-1)).toMatchObject({ deleted: true });
    const deleted = (await get(fake, '/records/deleted?since=0')).body as { data: { id: string }[] };
    expect(deleted.data.map((d) => d.id)).toEqual([all.data[0]!.id]);
  });

  it('expires cursors on its clock with 410 cursor_expired', async () => {
    const first = (await get(fake, '/records')).body as { next_cursor: string };
    await post(fake, '/_fake/clock', { advanceMs: 300_001 });
    const expired = await get(fake, `/records?cursor=${first.next_cursor}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ error: { code: 'cursor_expired' } });
  });

  it('serves XML and CSV bodies', async () => {
    const xml = await get(fake, '/records?format=xml&limit=3');
    expect(xml.headers.get('content-type')).toMatch(/application\/xml/);
    const parsed = new XMLParser().parse(xml.body as string);
    expect(parsed.response.data.record).toHaveLength(3);
    expect(parsed.response.next_cursor).toBeTruthy();
    const csv = await get(fake, '/records?limit=4', { accept: 'text/csv' });
    const rows = parseCsv(csv.body as string, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.id)).toEqual(fake.state.liveIds().slice(0, 4));
    expect(csv.headers.get('link')).toMatch(/rel="next"/);
  });

  it('answers a batch write with 207 and per-item results when some fail, once per idempotency key', async () => {
    const batch = {
      upserts: [
        { id: 'rec_0000001', name: 'renamed' },
        { id: 'rec_0000002', email: 'not an address' },
        { id: 'brand-new', name: 'New' },
      ],
      deletes: ['rec_0000003', 'missing'],
    };
    const first = await post(fake, '/records/batch', batch, { 'idempotency-key': 'k1' });
    expect(first.status).toBe(207);
    expect(
      (first.body as { results: { id: string; status: number }[] }).results.map((r) => [r.id, r.status]),
    ).toEqual([
      ['rec_0000001', 200],
      ['rec_0000002', 422],
      ['brand-new', 201],
      ['rec_0000003', 204],
      ['missing', 404],
    ]);
    const replay = await post(fake, '/records/batch', batch, { 'idempotency-key': 'k1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(fake.state.get('rec_0000001')!.name).toBe('renamed');
    expect(fake.state.get('rec_0000003')).toBeUndefined();
  });

  it('mutates itself at random (creates, updates, deletes) for tests that change data while syncing', async () => {
    const before = fake.state.liveCount;
    const { body } = await post(fake, '/_fake/mutate', { creates: 5, updates: 4, deletes: 3, seed: 7 });
    const changes = body as { created: string[]; updated: string[]; deleted: string[] };
    expect([changes.created.length, changes.updated.length, changes.deleted.length]).toEqual([5, 4, 3]);
    expect(fake.state.liveCount).toBe(before + 2);
    const stats = await (await fetch(`${fake.url}/_fake/stats`)).json();
    expect(stats).toMatchObject({ live: before + 2 });
  });

  it('answers injected faults: a 429 burst with Retry-After, then the real page', async () => {
    await post(fake, '/_fake/faults', {
      path: '/records',
      status: 429,
      headers: { 'retry-after': '1' },
      times: 2,
    });
    expect((await get(fake, '/records')).status).toBe(429);
    const again = await get(fake, '/records');
    expect([again.status, again.headers.get('retry-after')]).toEqual([429, '1']);
    expect((await get(fake, '/records')).status).toBe(200);
  });
});
