import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import type { MemorySource } from '../sync/memory-source.js';
import { syncToReview } from './sync-to-review.js';
import { UiClient } from './ui-client.js';

const TOKEN = 'ui-admin-token-0123456789';
const PAGE = '/ui/syncs/people';

/** The notice or problem an action's redirect carries (Post/Redirect/Get). */
function message(res: { statusCode: number; headers: Record<string, unknown> }): string {
  expect(res.statusCode).toBe(303);
  const url = new URL(String(res.headers.location), 'http://ui');
  expect(url.pathname).toBe(PAGE);
  return url.searchParams.get('notice') ?? `problem: ${url.searchParams.get('problem')}`;
}

/** The value of the hidden field `name` in the form posting to `action` (ids the page put there). */
function formField(body: string, action: string, name: string): string {
  const form = new RegExp(`action="${action}"[^]*?name="${name}" value="([^"]+)"`).exec(body);
  if (!form) throw new Error(`no ${name} in a form to ${action}`);
  return form[1]!;
}

describe.each(dialects)('dashboard sync page actions ($name)', (dialect) => {
  let t: TestEngine;
  let ui: UiClient;
  let source: MemorySource;
  const run = (full = false) => t.engine.syncs.runNow('people', full ? { mode: 'full' } : {});
  const status = () => t.engine.syncs.status('people');

  beforeAll(async () => {
    t = await openTestEngine(dialect, { server: { adminToken: TOKEN } });
    source = await syncToReview(t.engine);
    ui = new UiClient(t.app);
    await ui.signIn(TOKEN);
  });
  afterAll(async () => t?.close());

  it('offers retry and discard on each quarantined record, and says what became of it', async () => {
    const page = await ui.get(PAGE);
    expect(page.body).toContain('Retry all open');
    expect(page.body).toMatch(/<code>000005<\/code><\/td><td><code>name<\/code>/);
    const entry = formField(page.body, `${PAGE}/quarantine/retry`, 'ids');
    // The stored raw record is retried with the current schema: still refused, and the page says why.
    const retried = message(await ui.post(`${PAGE}/quarantine/retry`, { ids: entry }));
    expect(retried).toMatch(/^Retried 1: 0 stored, 1 still failing \(name: .+\), 0 replaced/);
    expect((await status()).quarantineOpen).toBe(1);
    expect(message(await ui.post(`${PAGE}/quarantine/discard`, { all: 'true' }))).toBe(
      'Discarded 1 quarantined record.',
    );
    expect((await status()).quarantineOpen).toBe(0);
    expect((await ui.get(PAGE)).body).toContain('No record is quarantined.');
  });

  it('resolves a conflict from the page; a forged form and a merged record that is not JSON change nothing', async () => {
    const page = await ui.get(PAGE);
    const conflict = formField(page.body, `${PAGE}/conflicts/resolve`, 'conflict');
    expect(page.body).toContain('Keep local');
    const forged = await ui.post(
      `${PAGE}/conflicts/resolve`,
      { conflict, resolution: 'source' },
      { csrf: false },
    );
    expect(forged.statusCode).toBe(403);
    const bad = message(await ui.post(`${PAGE}/conflicts/resolve`, { conflict, data: '{"name": ' }));
    expect(bad).toMatch(/^problem: the merged record is not JSON/);
    expect(message(await ui.post(`${PAGE}/conflicts/resolve`, { conflict, data: '[1]' }))).toBe(
      'problem: the merged record must be a JSON object',
    );
    expect((await status()).conflictsOpen).toBe(1);

    const merged = { ...JSON.parse((await t.engine.syncs.record('people', '000001')).data), name: 'merged' };
    const done = message(
      await ui.post(`${PAGE}/conflicts/resolve`, { conflict, data: JSON.stringify(merged) }),
    );
    expect(done).toBe('Resolved the conflict on 000001 (merged); the next run carries it out.');
    expect((await status()).conflictsOpen).toBe(0);
    await run();
    expect(source.records.get('000001')!.name).toBe('merged');
    const again = message(await ui.post(`${PAGE}/conflicts/resolve`, { conflict, resolution: 'local' }));
    expect(again).toMatch(/^problem: .*already resolved/);
  });

  it('keeps or confirms the deletes the safety valve holds', async () => {
    for (let i = 10; i < 15; i++) source.records.delete(String(i).padStart(6, '0'));
    await run(true);
    expect((await status()).deletesHeld).toMatchObject({ count: 5, live: 30 });
    expect((await ui.get(PAGE)).body).toContain('5 of 30 records, held by the safety valve');
    expect(message(await ui.post(`${PAGE}/deletes/discard`))).toBe(
      'Dropped the held deletes of people; the records stay.',
    );
    await run();
    expect(await t.engine.syncs.records('people', { limit: 100 })).toHaveLength(30);
    expect(message(await ui.post(`${PAGE}/deletes/confirm`))).toMatch(/^problem: .*holds no deletes/);

    await run(true);
    expect((await status()).deletesHeld).toMatchObject({ count: 5 });
    expect(message(await ui.post(`${PAGE}/deletes/confirm`))).toBe(
      'Confirmed: the next run of people deletes the held records.',
    );
    await run();
    expect(await t.engine.syncs.records('people', { limit: 100 })).toHaveLength(25);
    expect((await ui.get(PAGE)).body).toMatch(/<dt>Deletes held<\/dt><dd>none<\/dd>/);
  });

  it('pages the records by last change, and refuses a cursor it did not make', async () => {
    const ids = (body: string) =>
      [...body.matchAll(/<tr><td><code>(\d{6})<\/code><\/td><td class="num">/g)].map((m) => m[1]!);
    const first = await ui.get(PAGE);
    const firstIds = ids(first.body);
    expect(firstIds).toHaveLength(20);
    const next = /href="([^"]*records=[^"]+)" rel="next">Next 20/
      .exec(first.body)![1]!
      .replace(/&amp;/g, '&');
    const second = await ui.get(next);
    const secondIds = ids(second.body);
    expect(secondIds).toHaveLength(5);
    expect(second.body).not.toContain('rel="next">Next');
    expect(second.body).toContain(`href="${PAGE}">First</a>`);
    const all = (await t.engine.syncs.records('people', { limit: 100 })).map((r) => r.id);
    expect([...firstIds, ...secondIds]).toEqual(all);

    const bad = await ui.get(`${PAGE}?records=not-a-cursor`);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('cursor is not one this API returned');
  });
});
