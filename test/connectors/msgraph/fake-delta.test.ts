import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { fetchToken, graphFetch, type Json, startFake } from './helpers.js';

/** Each inbox starts with the two seeded messages with attachments (`inboxSize` generated ones: none). */
let fake: RunningMsGraphFake;
let token: string;
beforeEach(async () => {
  fake = await startFake({ https: false, inboxSize: 0 });
  token = await fetchToken(fake);
});
afterEach(async () => {
  await fake.close();
});

const get = (path: string, headers?: Record<string, string>) => graphFetch(fake, token, path, { headers });
const inbox = "/v1.0/users/adele@contoso.test/mailFolders('inbox')/messages/delta";

/** Follows a round to its deltaLink, checking nextLink XOR deltaLink on every page. */
async function round(start: string, headers?: Record<string, string>) {
  const pages: Json[] = [];
  let url = start;
  for (;;) {
    const page = await get(url, headers);
    expect(page.status).toBe(200);
    pages.push(page.body);
    const next = page.body['@odata.nextLink'];
    const delta = page.body['@odata.deltaLink'];
    expect(Boolean(next) !== Boolean(delta)).toBe(true);
    if (delta) return { pages, items: pages.flatMap((p) => p.value), deltaLink: delta as string };
    url = next;
  }
}

describe('Graph fake: delta per folder', () => {
  it('works per folder only', async () => {
    const all = await get('/v1.0/users/adele@contoso.test/messages/delta');
    expect(all.status).toBe(400);
    expect(all.body.error.message).toBe(
      "Change tracking is not supported against 'microsoft.graph.message'.",
    );
  });

  it('pages an initial round (absolute links on the fake) and ends with a deltaLink', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 23 }); // with the 2 seeded ones: 25
    const { pages, items, deltaLink } = await round(`${inbox}?$top=10`);
    expect(pages.map((p) => p.value.length)).toEqual([10, 10, 5]);
    expect(new Set(items.map((i: Json) => i.id)).size).toBe(25);
    expect(deltaLink).toMatch(
      new RegExp(`^${fake.url}/v1.0/users/[^/]+/mailFolders\\('[^']+'\\)/messages/delta\\?\\$deltatoken=`),
    );
    expect(items.every((i: Json) => i['@odata.type'] === '#microsoft.graph.message')).toBe(true);
  });

  it('keeps the first request’s query options in its tokens', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 2 }); // with the 2 seeded ones: 4
    const first = await round(`${inbox}?$select=subject&$top=2`);
    expect(first.pages.map((p) => p.value.length)).toEqual([2, 2]);
    expect(Object.keys(first.items[0]).sort()).toEqual(['@odata.etag', '@odata.type', 'id', 'subject']);
    fake.graph.control.deliver('adele@contoso.test', { count: 3 });
    // The deltaLink is replayed as is: its round still has $select=subject and 2 a page.
    const next = await round(first.deltaLink);
    const withItems = next.pages.filter((p) => p.value.length > 0);
    expect(withItems.map((p) => p.value.length)).toEqual([2, 1]);
    expect(Object.keys(next.items[0]).sort()).toEqual(['@odata.etag', '@odata.type', 'id', 'subject']);
  });

  it('starts an incremental round with an empty nextLink page', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 2 });
    const first = await round(inbox);
    fake.graph.control.deliver('adele@contoso.test', { count: 1 });
    const next = await round(first.deltaLink);
    expect(next.pages[0].value).toEqual([]);
    expect(next.pages[0]['@odata.nextLink']).toContain('$skiptoken=');
    expect(next.items).toHaveLength(1);
    // Nothing changed: one page, no empty one.
    const idle = await round(next.deltaLink);
    expect(idle.pages).toHaveLength(1);
    expect(idle.items).toEqual([]);
  });

  it('reports removals (deletes and moves out) as @removed, and moves in as new messages', async () => {
    const [a, b, c] = fake.graph.control.deliver('adele@contoso.test', { count: 3 });
    const archive = "/v1.0/users/adele@contoso.test/mailFolders('archive')/messages/delta";
    const first = await round(inbox);
    const firstArchive = await round(archive);
    expect(firstArchive.items).toEqual([]);
    const oldB = b!.id;
    fake.graph.control.remove(a!.id);
    fake.graph.control.move(b!.id, 'archive');
    expect(b!.id).not.toBe(oldB); // Exchange gives a moved message a new id
    const next = await round(first.deltaLink);
    expect(next.items).toEqual([
      { '@odata.type': '#microsoft.graph.message', id: a!.id, '@removed': { reason: 'deleted' } },
      { '@odata.type': '#microsoft.graph.message', id: oldB, '@removed': { reason: 'deleted' } },
    ]);
    const moved = await round(firstArchive.deltaLink);
    expect(moved.items.map((i: Json) => i.id)).toEqual([b!.id]);
    expect(moved.items[0].subject).toBe(b!.fields.subject);
    expect(c).toBeDefined();
  });

  it('gives only the changed properties of an updated message', async () => {
    const [a] = fake.graph.control.deliver('adele@contoso.test', { count: 1 });
    const first = await round(inbox);
    fake.graph.control.change(a!.id, { isRead: !a!.fields.isRead });
    const next = await round(first.deltaLink);
    expect(next.items).toEqual([
      {
        '@odata.type': '#microsoft.graph.message',
        '@odata.etag': expect.any(String),
        id: a!.id,
        isRead: a!.fields.isRead,
      },
    ]);
  });

  it('replays: the same nextLink gives the same page again', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 6 });
    const page = await get(`${inbox}?$top=3`);
    const next = page.body['@odata.nextLink'];
    const once = await get(next);
    const twice = await get(next);
    expect(twice.body.value.map((i: Json) => i.id)).toEqual(once.body.value.map((i: Json) => i.id));
  });

  it('answers 410 SyncStateNotFound once its sync states fall out of the cache, also mid-round', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 4 }); // with the 2 seeded ones: 6
    const page = await get(`${inbox}?$top=3`);
    const first = await round(inbox);
    expect(fake.graph.control.expireDelta({ user: 'adele@contoso.test', folder: 'inbox' })).toBeGreaterThan(
      0,
    );
    for (const url of [page.body['@odata.nextLink'], first.deltaLink]) {
      const gone = await get(url);
      expect(gone.status).toBe(410);
      expect(gone.body.error.code).toBe('SyncStateNotFound');
      expect(gone.body.error.message).toMatch(
        /^The sync state generation is not found; generation=\d+;\[highest=\d+\]/,
      );
      expect(gone.headers.get('location')).toBeNull();
    }
    // A fresh round works again.
    expect((await round(inbox)).items).toHaveLength(6);
  });

  it('can answer 410 with a Location carrying an empty $deltatoken, and falls back to it on its own capacity', async () => {
    await fetch(`${fake.url}/_fake/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deltaLocationOn410: true, deltaStateCapacity: 2 }),
    });
    const first = await round(inbox);
    await round(inbox);
    await round(inbox); // two newer states push the first one out
    const gone = await get(first.deltaLink);
    expect(gone.status).toBe(410);
    expect(gone.headers.get('location')).toMatch(/\/messages\/delta\?\$deltatoken=$/);
  });

  it('refuses what Outlook delta does not support, naming it', async () => {
    expect((await get(`${inbox}?$search="x"`)).body.error.message).toContain('$search');
    expect((await get(`${inbox}?$orderby=subject`)).status).toBe(400);
    expect((await get(`${inbox}?$filter=isRead eq true`)).status).toBe(400);
    expect((await get(`${inbox}?$deltatoken=latest`)).status).toBe(400);
    expect((await get(`${inbox}?$deltatoken=garbage`)).body.error.code).toBe('ErrorInvalidSyncStateData');
    const filtered = await get(`${inbox}?$filter=receivedDateTime ge 2020-01-01T00:00:00Z`);
    expect(filtered.status).toBe(200);
  });
});
