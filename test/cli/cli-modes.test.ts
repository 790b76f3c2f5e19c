import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bothWays, freePort, runCli, startCli, tempDir } from '../helpers/cli.js';

/**
 * The CLI's two modes: on this machine's store (the admin API injected into the app `start` builds)
 * and against a running instance (`PATCHBAY_URL`). Every command runs both ways on the same store and
 * must print the same thing and exit the same way.
 */
const TOKEN = 'cli-modes-admin-token-4c1e9b7a';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CONNECTION_TOKEN = 'crm-token-never-printed-0001';

let cwd: string;
let url: string;
let server: Awaited<ReturnType<typeof startCli>>;

beforeAll(async () => {
  cwd = tempDir();
  writeFileSync(
    join(cwd, 'patchbay.config.json'),
    JSON.stringify({
      sources: [{ id: 'gh', verify: { scheme: 'github', secrets: ['gh-secret-value'] } }],
      destinations: [
        { id: 'app', url: 'https://app.example.com/hooks', events: ['api.*'], secrets: [SECRET] },
      ],
    }),
  );
  const port = await freePort();
  // No workers: deliveries stay as the commands leave them (nothing is sent to app.example.com).
  server = await startCli(['start', '--no-workers'], {
    cwd,
    port,
    env: { PATCHBAY_PORT: String(port), PATCHBAY_ADMIN_TOKEN: TOKEN },
  });
  url = `http://127.0.0.1:${port}`;
  for (const type of ['order.created', 'order.paid', 'order.shipped']) {
    const res = await fetch(`${url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type, payload: { n: type } }),
    });
    expect(res.status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  if (!server) return;
  server.child.kill('SIGTERM');
  await once(server.child, 'exit');
});

const local = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd, env: { PATCHBAY_ADMIN_TOKEN: TOKEN, ...env }, timeoutMs: 60_000 });
const remote = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, {
    cwd: tempDir(),
    env: { PATCHBAY_URL: url, PATCHBAY_ADMIN_TOKEN: TOKEN, ...env },
    timeoutMs: 60_000,
  });

const both = bothWays(local, remote);

describe('the CLI, locally and against a running instance', { timeout: 300_000 }, () => {
  it('reads events, sources, destinations and deliveries the same way', async () => {
    const events = await both(['events', 'list', '--json']);
    const { data } = JSON.parse(events.stdout) as { data: { id: string; type: string }[] };
    expect(data.map((e) => e.type)).toEqual(['order.created', 'order.paid', 'order.shipped']);

    // Pages: --limit 2 says where to continue; the cursor continues there.
    const first = await both(['events', 'list', '--limit', '2']);
    const cursor = /\(more: --cursor (\S+)\)/.exec(first.stdout)?.[1];
    expect(cursor).toBeDefined();
    const rest = await both(['events', 'list', '--cursor', cursor!, '--json']);
    expect(JSON.parse(rest.stdout).data.map((e: { type: string }) => e.type)).toEqual(['order.shipped']);

    const shown = await both(['events', 'show', data[0]!.id]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: data[0]!.id, payload: { n: 'order.created' } });

    const sources = await both(['sources', 'list']);
    expect(sources.stdout).toMatch(/gh\s+github\s+\/webhooks\/gh\s+1/);
    expect(sources.stdout).not.toContain('gh-secret-value');

    const destinations = await both(['destinations', 'list']);
    expect(destinations.stdout).toMatch(/app\s+http\s+enabled\s+https:\/\/app\.example\.com\/hooks/);
    expect((await both(['destinations', 'secret', 'app'])).stdout).toBe(`${SECRET}\n`);

    const deliveries = await both(['deliveries', 'list', '--destination', 'app', '--json']);
    const dlv = JSON.parse(deliveries.stdout).data as { id: string; status: string }[];
    expect(dlv).toHaveLength(3);
    const detail = await both(['deliveries', 'show', dlv[0]!.id]);
    expect(JSON.parse(detail.stdout)).toMatchObject({ id: dlv[0]!.id, attemptLog: [] });
  });

  it('changes destinations and deliveries the same way', async () => {
    const id = JSON.parse((await local(['deliveries', 'list', '--json'])).stdout).data[0].id;
    for (const run of [local, remote]) {
      const replayed = await run(['deliveries', 'replay', id]);
      expect(replayed.stdout).toBe(`${id} queued for delivery to app\n`);
      expect((await run(['destinations', 'disable', 'app', '--reason', 'maintenance'])).stdout).toBe(
        'app disabled\n',
      );
      const listed = await run(['destinations', 'list', '--json']);
      expect(JSON.parse(listed.stdout).data[0]).toMatchObject({ id: 'app', status: 'disabled' });
      expect((await run(['destinations', 'enable', 'app'])).stdout).toBe('app enabled\n');
      const recovered = await run(['destinations', 'recover', 'app', '--since', '1h']);
      expect(recovered.code).toBe(0);
      expect(recovered.stdout).toMatch(/^\d+ deliveries queued again for app\n$/);
    }
  });

  it('manages connections and lists keys the same way, never printing a secret', async () => {
    for (const [run, name] of [
      [local, 'crm-local'],
      [remote, 'crm-remote'],
    ] as const) {
      const added = await run(
        ['connections', 'add', name, '--scheme', 'bearer', '--secret', 'token=CRM_TOKEN'],
        { CRM_TOKEN: CONNECTION_TOKEN },
      );
      expect(added.stdout).toBe(`${name} created (bearer, active)\n`);
      const updated = await run(['connections', 'update', name, '--base-url', 'https://crm.example.com']);
      expect(updated.stdout).toBe(`${name} updated (active)\n`);
      expect(added.stdout + added.stderr + updated.stdout).not.toContain(CONNECTION_TOKEN);
    }
    const list = await both(['connections', 'list']);
    expect(list.stdout).toMatch(/crm-local\s+custom\s+bearer\s+active/);
    expect(list.stdout).toMatch(/crm-remote\s+custom\s+bearer\s+active/);
    const shown = await both(['connections', 'show', 'crm-remote']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      baseUrl: 'https://crm.example.com',
      auth: { scheme: 'bearer', token: '••••••••' },
    });
    expect(shown.stdout).not.toContain(CONNECTION_TOKEN);
    const refresh = await both(['connections', 'refresh', 'crm-local']);
    expect(refresh.code).toBe(1);
    expect(refresh.stderr.trim()).toBe('patchbay: connection crm-local uses bearer: nothing to refresh');
    const keys = await both(['keys', 'list', '--json']);
    expect(JSON.parse(keys.stdout).keys).toMatchObject([{ status: 'primary', loaded: true, values: 2 }]);
    expect((await local(['connections', 'remove', 'crm-local'])).stdout).toBe('crm-local removed\n');
    expect((await remote(['connections', 'remove', 'crm-remote'])).stdout).toBe('crm-remote removed\n');
  });

  it('shows the health of every destination, connection and sync the same way', async () => {
    const status = await both(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout.split('\n')[0]).toBe('healthy (score 100)');
    expect(status.stdout).toMatch(/destination\s+app\s+100\s+healthy/);
    const json = await local(['status', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'healthy',
      destinations: [{ id: 'app', score: 100 }],
    });
  });

  it("fails the same way, with the API's message", async () => {
    const missing = await both(['events', 'show', 'evt_nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('patchbay: no event evt_nope');
    const badSince = await both(['deliveries', 'list', '--since', 'yesterday-ish']);
    expect(badSince.code).toBe(1);
    expect(badSince.stderr.trim()).toBe(
      'patchbay: since must be an ISO date-time, epoch milliseconds or a duration ago (2h, 7d), got "yesterday-ish"',
    );
    const badCursor = await both(['connections', 'list', '--cursor', '!!!']);
    expect(badCursor.stderr.trim()).toBe('patchbay: cursor is not one this API returned');
  });

  it('says plainly when the instance refuses the token or cannot be reached', async () => {
    const refused = await remote(['events', 'list'], { PATCHBAY_ADMIN_TOKEN: 'not-the-admin-token' });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `patchbay: the admin API at ${url} refused the token (missing or invalid bearer token): set PATCHBAY_ADMIN_TOKEN to its admin token`,
    );
    expect(refused.stderr).not.toContain('not-the-admin-token');
    const port = await freePort();
    const down = await runCli(['sources', 'list', '--url', `http://127.0.0.1:${port}`], { cwd: tempDir() });
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toBe(
      `patchbay: cannot reach the admin API at http://127.0.0.1:${port}: connection refused (is \`patchbay start\` running there?)`,
    );
    const bad = await runCli(['sources', 'list', '--url', 'ftp://example.com'], { cwd: tempDir() });
    expect(bad.stderr.trim()).toBe('patchbay: --url must be an http(s) URL, got "ftp:…"');
    const tokenAlone = await runCli(['sources', 'list', '--token', 'x'], { cwd: tempDir() });
    expect(tokenAlone.stderr.trim()).toBe(
      'patchbay: --token goes with --url: locally, the admin token is the configuration’s',
    );
  });
});
