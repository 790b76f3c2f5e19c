import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningRecordsFake,
  recordsSyncRequest,
  startRecordsFake,
} from '../../src/testing/records-fake/index.js';
import { allDialects } from '../helpers/databases.js';
import { adminApi, openTestEngine, type TestEngine } from '../helpers/engine.js';
import { eventually } from '../helpers/eventually.js';

const TOKEN = 'syncs-admin-token-0123456789';

async function fakeCall(fake: RunningRecordsFake, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`syncs admin API on ${dialect.name}`, () => {
    let fake: RunningRecordsFake;
    let t: TestEngine;
    let api: ReturnType<typeof adminApi>;

    beforeAll(async () => {
      fake = await startRecordsFake();
      await fakeCall(fake, '/_fake/seed', { count: 30 });
      t = await openTestEngine(dialect, {
        server: { adminToken: TOKEN },
        syncRuns: { pollInterval: '50ms' },
        connections: [{ id: 'api', baseUrl: fake.url, auth: { scheme: 'bearer', token: 'tok' } }],
        // The records fake is on loopback: private networks open only by configuration.
        vault: { allowedNetworks: ['127.0.0.0/8'] },
        syncs: [
          {
            id: 'people',
            connection: 'api',
            request: recordsSyncRequest({ incremental: true, tombstones: true, query: { limit: 10 } }),
            schema: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } },
          },
        ],
      });
      api = adminApi(t.app, TOKEN);
      await t.engine.startWorkers();
    });
    afterAll(async () => {
      await t?.close();
      await fake?.close();
    });

    const show = async () => (await api('GET', '/syncs/people')).json();

    it('lists the config sync, runs it when asked, and shows the run, the records and the metrics', async () => {
      const listed = await api('GET', '/syncs');
      expect(listed.statusCode).toBe(200);
      expect(listed.json().data).toEqual([
        // A manual sync is not due until asked: no initial run of its own.
        expect.objectContaining({ id: 'people', connection: 'api', schedule: 'manual', nextRunAt: null }),
      ]);
      expect(listed.json().data[0].lastRun).toBeNull();
      const asked = await api('POST', '/syncs/people/run', {});
      expect(asked.statusCode).toBe(202);
      const done = await eventually(show, (s) => s.lastRun?.status === 'succeeded');
      expect(done).toMatchObject({ records: 30, lastRun: { created: 30, seen: 30, quarantined: 0 } });
      expect(done.health.score).toBeGreaterThan(80);

      const runs = (await api('GET', '/syncs/people/runs?limit=5')).json();
      expect(runs.data[0]).toMatchObject({ mode: expect.any(String), trigger: 'manual', created: 30 });
      const one = await api('GET', `/syncs/people/runs/${runs.data[0].id}`);
      expect(one.json().id).toBe(runs.data[0].id);

      // Keyset pages on updatedAt then id, every record once.
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = (
          await api('GET', `/syncs/people/records?limit=7${cursor ? `&cursor=${cursor}` : ''}`)
        ).json();
        for (const r of page.data) seen.push(r.id);
        expect(page.data[0]).toMatchObject({
          id: expect.any(String),
          data: expect.objectContaining({ email: expect.any(String) }),
          updatedAt: expect.any(String),
          deletedAt: null,
        });
        cursor = page.nextCursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(30);
      expect(seen).toHaveLength(30);
      const record = await api('GET', `/syncs/people/records/${seen[0]}`);
      expect(record.json().id).toBe(seen[0]);

      const metrics = await t.app.inject({ url: '/metrics' });
      expect(metrics.body).toMatch(/patchbay_sync_stored_records\{sync="people"\} 30/);
      expect(metrics.body).toMatch(/patchbay_sync_records_total\{sync="people",change="created"\} 30/);
      expect(metrics.body).toMatch(/patchbay_sync_health\{sync="people"\} \d+/);
    });

    it('quarantines a record the schema refuses, and retries it once the source is fixed', async () => {
      // The provider starts answering one record the schema refuses (its API validates nothing).
      const bad = (await api('GET', '/syncs/people/records?limit=1')).json().data[0].id as string;
      fake.state.put(bad, { email: 42 }, true);
      await api('POST', '/syncs/people/run', {});
      const after = await eventually(show, (s) => s.quarantineOpen === 1 && s.state === 'idle');
      expect(after.lastRun.status).toBe('succeeded');
      const listed = (await api('GET', '/syncs/people/quarantine?status=open')).json();
      expect(listed.data).toEqual([expect.objectContaining({ recordId: bad, status: 'open' })]);
      const entry = await api('GET', `/syncs/people/quarantine/${listed.data[0].id}`);
      expect(entry.json().error).toMatch(/email/);
      // Still wrong at the source: the retry keeps it quarantined; fixed there, the retry stores it.
      const again = await api('POST', '/syncs/people/quarantine/retry', { ids: [listed.data[0].id] });
      expect(again.statusCode).toBe(200);
      fake.state.put(bad, { email: 'fixed@example.com' }, true);
      await api('POST', '/syncs/people/run', {});
      const fixed = await eventually(show, (s) => s.quarantineOpen === 0 && s.state === 'idle');
      expect(fixed.lastRun.status).toBe('succeeded');
      expect((await api('GET', `/syncs/people/records/${bad}`)).json().data.email).toBe('fixed@example.com');
      const discarded = await api('POST', '/syncs/people/quarantine/discard', { all: true });
      expect(discarded.json().discarded).toEqual([]);
    });

    it('answers bad input with clear errors', async () => {
      const unknown = await api('GET', '/syncs/nope');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error.message).toMatch(/no sync nope \(syncs: people\)/);
      const badCursor = await api('GET', '/syncs/people/records?cursor=zzz');
      expect(badCursor.statusCode).toBe(400);
      const badBody = await api('POST', '/syncs/people/run', { fast: true });
      expect(badBody.statusCode).toBe(400);
      const noHeld = await api('POST', '/syncs/people/deletes/confirm', {});
      expect(noHeld.statusCode).toBe(409);
      expect(noHeld.json().error.message).toMatch(/holds no deletes/);
      const noRecord = await api('GET', '/syncs/people/records/missing-1');
      expect(noRecord.statusCode).toBe(404);
    });

    it('pauses and resumes: a paused sync refuses runs by hand', async () => {
      expect((await api('POST', '/syncs/people/pause')).json().state).toBe('paused');
      const refused = await api('POST', '/syncs/people/run', {});
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.message).toMatch(/paused/);
      expect((await api('POST', '/syncs/people/resume')).json().state).toBe('idle');
    });

    it('starts a run in the serving process and answers it; a second start answers the run under way', async () => {
      await eventually(show, (s) => s.state === 'idle');
      // The first page takes 5 s: the run holds its lease while the second start asks.
      await fakeCall(fake, '/_fake/faults', { rules: [{ path: '/records', delayMs: 5000 }] });
      const first = await api('POST', '/syncs/people/runs', { full: true });
      expect(first.statusCode).toBe(202);
      expect(first.json()).toEqual({ runId: expect.stringMatching(/^run_/), started: true });
      const runId = first.json().runId as string;
      const second = await api('POST', '/syncs/people/runs', {});
      expect(second.statusCode).toBe(202);
      expect(second.json()).toEqual({ runId, started: false, owner: expect.any(String) });
      const run = await eventually(
        async () => (await api('GET', `/syncs/people/runs/${runId}`)).json(),
        (r) => r.status !== 'running',
      );
      expect(run).toMatchObject({ mode: 'full', trigger: 'manual', status: 'succeeded' });
      expect(run.seen).toBe(fake.state.live().length);
      expect((await api('POST', '/syncs/nope/runs', {})).statusCode).toBe(404);
      expect((await api('POST', '/syncs/people/runs', { fast: true })).statusCode).toBe(400);
    });

    it('verifies against the source and repairs drift', async () => {
      await eventually(show, (s) => s.state === 'idle');
      await fakeCall(fake, '/_fake/mutate', { creates: 2, seed: 9 });
      const started = await api('POST', '/syncs/people/verify', { repair: true });
      expect(started.statusCode).toBe(202);
      const runId = started.json().runId as string;
      const run = await eventually(
        async () => (await api('GET', `/syncs/people/runs/${runId}`)).json(),
        (r) => r.status !== 'running',
      );
      expect(run).toMatchObject({ mode: 'verify', status: 'succeeded' });
      expect(run.report.missing.count).toBe(2);
      expect((await show()).records).toBe(fake.state.live().length);
    });
  });
}

describe('syncs in the config file, at engine open', () => {
  const sqlite = allDialects[0]!.dialect;

  it('refuses an unknown connection, model and schedule, naming each path and the known models', async () => {
    const opening = openTestEngine(sqlite, {
      connections: [{ id: 'gh', provider: 'github', auth: { scheme: 'bearer', token: 'x' } }],
      syncs: [
        { id: 'a', connection: 'nope', model: 'github.issues', options: { owner: 'o', repo: 'r' } },
        { id: 'b', connection: 'gh', model: 'github.tickets' },
        {
          id: 'c',
          connection: 'gh',
          model: 'github.issues',
          options: { owner: 'o', repo: 'r' },
          schedule: 'every tuesday-ish',
        },
      ],
    });
    const err = await opening.then(
      async (t) => {
        await t.close();
        throw new Error('expected a config error');
      },
      (e: Error & { problems?: string[] }) => e,
    );
    expect(err.problems).toEqual(
      expect.arrayContaining([
        'syncs[0].connection: unknown connection "nope"',
        expect.stringMatching(
          /^syncs\[1\]\.model: unknown model "github.tickets" \(models: .*github\.issues/,
        ),
        expect.stringMatching(/^syncs\[2\]\.schedule: /),
      ]),
    );
  });
});
