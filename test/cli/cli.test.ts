import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, runCli, startCli, tempDir } from '../helpers/cli.js';

describe('patchbay CLI', () => {
  it('prints its version and help for every command', async () => {
    const cwd = tempDir();
    const version = await runCli(['--version'], { cwd });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const command of [
      'start',
      'worker',
      'migrate',
      'doctor',
      'events',
      'sources',
      'deliveries',
      'destinations',
      'connections',
      'syncs',
      'keys',
      'status',
      'fake',
    ]) {
      const help = await runCli([command, '--help'], { cwd });
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: patchbay ${command}`);
    }
  });

  it('starts on SQLite with no setup, serves /healthz, and stops cleanly on SIGTERM', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const { child } = await startCli(['start'], { cwd, port, env: { PATCHBAY_PORT: String(port) } });
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('says at start where the admin API is and whether a token protects it', async () => {
    const cwd = tempDir();
    for (const token of [undefined, 'a-token-of-sixteen-chars']) {
      const port = await freePort();
      const { child, output } = await startCli(['start', '--no-workers'], {
        cwd,
        port,
        env: {
          PATCHBAY_PORT: String(port),
          PATCHBAY_LOG_LEVEL: 'info',
          ...(token && { PATCHBAY_ADMIN_TOKEN: token }),
        },
      });
      child.kill('SIGTERM');
      await once(child, 'exit');
      const lines = output()
        .split('\n')
        .filter((l) => l.includes('admin API at'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`admin API at http://127.0.0.1:${port}/api/v1`);
      if (token) {
        expect(lines[0]).toContain('protected by the admin token');
        expect(lines[0]).not.toContain(token);
      } else expect(lines[0]).toContain('OPEN to this machine: no admin token');
    }
  });

  it('fails start-up on a malformed config with every problem by path and no stack trace', async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'patchbay.config.yaml'),
      'sources:\n  - id: a\n    verify: { scheme: githb, secrets: [x] }\n  - id: b\n    verify: { scheme: github }\n',
    );
    for (const command of ['start', 'doctor']) {
      const result = await runCli([command], { cwd });
      expect(result.code).not.toBe(0);
      expect(result.stderr + result.stdout).toContain(
        'sources[0].verify.scheme: unknown scheme "githb"; expected one of',
      );
      expect(result.stderr + result.stdout).toContain(
        'sources[1].verify.secrets: scheme "github" needs at least one secret',
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('fails with one clear line when the database is unreachable', async () => {
    const port = await freePort();
    const result = await runCli(['start'], {
      cwd: tempDir(),
      env: { PATCHBAY_DATABASE_URL: `postgres://patchbay:secret-pw@127.0.0.1:${port}/nope` },
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^patchbay: cannot connect to PostgreSQL at postgres:\/\/patchbay:\*\*\*@127\.0\.0\.1:\d+\/nope: /,
    );
    expect(result.stderr).not.toContain('secret-pw');
  });

  it('fails with one clear line when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const { port } = blocker.address() as { port: number };
    try {
      const result = await runCli(['start'], { cwd: tempDir(), env: { PATCHBAY_PORT: String(port) } });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `patchbay: port ${port} on 127.0.0.1 is already in use; stop the other process or set PATCHBAY_PORT`,
      );
    } finally {
      blocker.close();
    }
  });

  it('refuses a public bind without an admin token', async () => {
    const result = await runCli(['start', '--host', '0.0.0.0'], { cwd: tempDir() });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'patchbay: refusing to listen on 0.0.0.0 without an admin token: set PATCHBAY_ADMIN_TOKEN (16+ characters) or bind to 127.0.0.1',
    );
  });

  it('migrates, reports status, and doctor checks the environment', async () => {
    const cwd = tempDir();
    const status = await runCli(['migrate', '--status'], { cwd });
    expect(status.stdout).toContain('pending  0001-jobs');
    const migrate = await runCli(['migrate'], { cwd });
    expect(migrate.stdout).toMatch(/applied 0001-jobs/);
    const again = await runCli(['migrate'], { cwd });
    expect(again.stdout).toMatch(/up to date/);
    const doctor = await runCli(['doctor'], { cwd });
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toContain('ok    migrations current');
  });

  it('lists sources (never their secrets), destinations and deliveries from the store', async () => {
    const cwd = tempDir();
    const secret = 'cli-source-secret-value';
    writeFileSync(
      join(cwd, 'patchbay.config.json'),
      JSON.stringify({
        sources: [
          { id: 'gh', verify: { scheme: 'github', secrets: [secret] } },
          { id: 'lab', verify: { scheme: 'none', insecure: true } },
        ],
        destinations: [
          { id: 'app', url: 'https://app.example.com/hooks', events: ['gh.*'], secrets: ['${APP_SECRET}'] },
        ],
      }),
    );
    const sources = await runCli(['sources', 'list'], { cwd });
    expect(sources.code).toBe(0);
    expect(sources.stdout).toMatch(/gh\s+github\s+\/webhooks\/gh\s+1/);
    expect(sources.stdout).toContain('none (UNSIGNED)');
    expect(sources.stdout + sources.stderr).not.toContain(secret);
    // Reading the store needs no secret: what uses an unset one is left out, said once in plain words.
    expect(sources.stderr.match(/APP_SECRET/g)).toHaveLength(1);
    expect(sources.stderr).toContain('destinations[0] "app" (APP_SECRET is not set)');
    const env = { APP_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    const destinations = await runCli(['destinations', 'list'], { cwd, env });
    expect(destinations.code).toBe(0);
    expect(destinations.stdout).toContain('https://app.example.com/hooks');
    const deliveries = await runCli(['deliveries', 'list', '--destination', 'app'], { cwd });
    expect(deliveries.code).toBe(0);
  });

  it('rejects an unknown command or option with a hint', async () => {
    const result = await runCli(['strat'], { cwd: tempDir() });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unknown command 'strat'/);
  });
});
