import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRecordsFake, startRecordsFake } from '../../src/testing/records-fake/index.js';
import { bothWays, freePort, runCli, startCli, tempDir } from '../helpers/cli.js';

/** `patchbay syncs …` against the records fake, through the built CLI on SQLite in a fresh directory. */
// Each command opens the engine in its own process (about a second on a loaded machine).
describe('patchbay syncs', () => {
  let fake: RunningRecordsFake;
  let cwd: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(['syncs', ...args], { cwd, env, timeoutMs: 30_000 });

  beforeAll(async () => {
    fake = await startRecordsFake();
    for (let i = 1; i <= 120; i++)
      fake.state.put(`r${String(i).padStart(3, '0')}`, { email: `u${i}@x.io` }, false);
    cwd = tempDir();
    writeFileSync(
      join(cwd, 'patchbay.config.yaml'),
      [
        // The records fake listens on plain http on loopback, which connections may dial only when told.
        'vault: { allowInsecureLoopback: true, allowedNetworks: [127.0.0.0/8] }',
        'connections:',
        '  - id: api',
        `    baseUrl: ${fake.url}`,
        '    auth: { scheme: bearer, token: tok }',
        'syncs:',
        '  - id: people',
        '    connection: api',
        '    request:',
        '      path: /records',
        '      records: data',
        '      id: id',
        '      pagination: { style: cursor, cursorPath: next_cursor, cursorParam: cursor }',
        '      incremental: { param: modified_since, field: updated_at }',
        '      query: { include_deleted: true, limit: 25 }',
        '      deleted: { field: deleted }',
        '    schema: { type: object, required: [email], properties: { email: { type: string } } }',
        '',
      ].join('\n'),
    );
    const key = await runCli(['keys', 'generate'], { cwd });
    env = { PATCHBAY_ENCRYPTION_KEY: key.stdout.trim() };
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('lists, runs with --follow, pages records, refuses a paused sync, and verifies and repairs drift', async () => {
    const before = await cli('list');
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/^ID\s+MODEL\s+STATE\s+RECORDS\s+LAST RUN\s+NEXT RUN\s+HEALTH\n/);
    expect(before.stdout).toMatch(/people\s+declarative\s+idle\s+0\s+never\s+manual/);

    const run = await cli('run', 'people', '--follow');
    expect(run.stderr).toContain('sync people: 120 records seen');
    expect(run.stdout).toMatch(
      /^run run_\w+: succeeded, incremental, seen 120, created 120, updated 0, deleted 0/,
    );
    expect(run.code).toBe(0);

    const listed = await cli('list', '--json');
    expect(JSON.parse(listed.stdout).data[0]).toMatchObject({
      id: 'people',
      records: 120,
      lastRun: { status: 'succeeded', created: 120 },
    });

    // Keyset pages through the CLI: every record once.
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = JSON.parse(
        (await cli('records', 'people', '--limit', '50', '--json', ...(cursor ? ['--cursor', cursor] : [])))
          .stdout,
      );
      ids.push(...page.data.map((r: { id: string }) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toHaveLength(120);
    expect(new Set(ids).size).toBe(120);

    expect((await cli('pause', 'people')).stdout.trim()).toBe('sync people: paused');
    const refused = await cli('run', 'people');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('patchbay: sync people is paused; resume it first');
    expect((await cli('resume', 'people')).stdout.trim()).toBe('sync people: idle');

    // A clean store verifies clean (exit 0).
    const clean = await cli('verify', 'people');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('source records: 120, local records: 120');
    expect(clean.stderr).toContain('verify people: 120/120 (100%)');

    // Drift an incremental read cannot see: the source restored from a backup, which lost r120 with no
    // tombstone and re-stamped every record.
    fake.state.reset();
    for (let i = 1; i <= 119; i++)
      fake.state.put(`r${String(i).padStart(3, '0')}`, { email: `u${i}@x.io` }, false);
    const drift = await cli('verify', 'people');
    expect(drift.stdout).toMatch(/missing locally: 0\n/);
    expect(drift.stdout).toMatch(/extra locally: 1 \(r120\)\n/);
    expect(drift.stdout).toMatch(/different: 119 \(r001, r002,/);
    expect(drift.code).toBe(2);

    const repaired = await cli('verify', 'people', '--repair', '--json');
    expect(repaired.code).toBe(0);
    expect(JSON.parse(repaired.stdout)).toMatchObject({ repaired: true, extra: { count: 1, ids: ['r120'] } });
    const again = await cli('verify', 'people');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('missing locally: 0\nextra locally: 0\ndifferent: 0');

    const runs = await cli('runs', 'people');
    expect(runs.stdout.split('\n').filter((l) => l.startsWith('run_'))).toHaveLength(5);
  }, 180_000);

  it('lists and discards quarantined records, and says plainly what it cannot do', async () => {
    fake.state.put('bad1', { email: 42 }, false);
    expect((await cli('run', 'people', '--follow')).stdout).toContain('quarantined 1');
    const listed = await cli('quarantine', 'list', 'people');
    expect(listed.stdout).toMatch(/qr_\w+\s+bad1\s+email\s+email: /);
    const entry = listed.stdout.match(/(qr_\w+)/)![1]!;
    expect(JSON.parse((await cli('quarantine', 'show', 'people', entry)).stdout)).toMatchObject({
      id: entry,
      recordId: 'bad1',
      raw: expect.objectContaining({ email: 42 }),
    });
    expect((await cli('quarantine', 'retry', 'people')).stderr).toContain('give entry ids or --all');
    const retried = await cli('quarantine', 'retry', 'people', '--all');
    expect(retried.stdout).toContain('stored 0, still failing 1');
    expect(retried.code).toBe(1);
    expect((await cli('quarantine', 'discard', 'people', '--all')).stdout.trim()).toBe('discarded 1');

    const held = await cli('deletes', 'confirm', 'people');
    expect(held.code).toBe(1);
    expect(held.stderr).toContain('sync people holds no deletes');
    const unknown = await cli('show', 'nope');
    expect(unknown.stderr.trim()).toBe('patchbay: no sync nope (syncs: people)');
    const conflict = await cli('conflicts', 'resolve', 'people', 'cfl_x', '--take', 'both');
    expect(conflict.stderr).toContain('--take must be local or source, got "both"');
  }, 120_000);

  it('works the same against a running instance (--url): lists, runs with --follow, verifies', async () => {
    const TOKEN = 'syncs-cli-admin-token-7f3a91c2';
    const port = await freePort();
    // No workers: a run happens only when a command asks the instance for one.
    const server = await startCli(['start', '--no-workers'], {
      cwd,
      port,
      env: { ...env, PATCHBAY_PORT: String(port), PATCHBAY_ADMIN_TOKEN: TOKEN },
      timeoutMs: 60_000,
    });
    try {
      const local = (args: string[]) =>
        runCli(['syncs', ...args], { cwd, env: { ...env, PATCHBAY_ADMIN_TOKEN: TOKEN }, timeoutMs: 30_000 });
      const remote = (args: string[]) =>
        runCli(['syncs', ...args], {
          cwd: tempDir(),
          env: { PATCHBAY_URL: `http://127.0.0.1:${port}`, PATCHBAY_ADMIN_TOKEN: TOKEN },
          timeoutMs: 30_000,
        });
      const both = bothWays(local, remote);

      // The instance runs it (this process has no store) and the CLI follows it to its end.
      fake.state.put('r121', { email: 'u121@x.io' }, false);
      const run = await remote(['run', 'people', '--follow']);
      expect(run.stdout).toMatch(/^run run_\w+: succeeded, incremental, seen \d+, created [1-9]/);
      expect(run.stderr).toMatch(/sync people: \d+ records seen/);
      expect(run.code).toBe(0);

      // A full read has a total to show: the records stored.
      const full = await remote(['run', 'people', '--follow', '--full']);
      expect(full.stdout).toMatch(/^run run_\w+: succeeded, full, /);
      expect(full.stderr).toMatch(/sync people: (\d+)\/\1 \(100%\)/);

      await both(['list']);
      const runs = await both(['runs', 'people', '--limit', '1']);
      expect(runs.stdout).toMatch(/\(more: --cursor \S+\)\n$/);
      const records = await both(['records', 'people', '--limit', '5', '--json']);
      expect(JSON.parse(records.stdout).data).toHaveLength(5);
      await both(['quarantine', 'list', 'people', '--status', 'discarded']);
      await both(['conflicts', 'list', 'people']);
      expect((await both(['show', 'nope'])).stderr.trim()).toBe('patchbay: no sync nope (syncs: people)');
      expect((await both(['deletes', 'discard', 'people'])).code).toBe(1);
      const shown = JSON.parse((await remote(['show', 'people'])).stdout);
      expect(shown).toMatchObject({ id: 'people', records: expect.any(Number), state: 'idle' });

      expect((await remote(['pause', 'people'])).stdout.trim()).toBe('sync people: paused');
      const refused = await remote(['run', 'people', '--follow']);
      expect(refused.stderr.trim()).toBe('patchbay: sync people is paused; resume it first');
      expect((await remote(['resume', 'people'])).stdout.trim()).toBe('sync people: idle');

      const verified = await remote(['verify', 'people']);
      expect(verified.stdout).toMatch(/source records: (\d+), local records: \1,/);
      expect(verified.stderr).toMatch(/verify people: (\d+)\/\1 \(100%\)/);
      expect(verified.code).toBe(0);
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
  }, 180_000);
});
