import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/cli/doctor/finding.js';
import { openDatabase } from '../../src/store/database.js';
import { OpsSignalStore } from '../../src/store/ops-signal-store.js';
import { formatKey, generateKey } from '../../src/vault/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

interface Report {
  ok: string[];
  findings: Finding[];
  errors: number;
}

describe('patchbay doctor', () => {
  it('exits 1 on an inline credential, with the finding and its fix in --json and in the text', async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'patchbay.config.yaml'),
      'connections:\n  - id: crm\n    baseUrl: https://api.hubapi.com\n    auth: { scheme: bearer, token: pat-na1-literal }\n',
    );
    const json = await runCli(['doctor', '--json'], { cwd });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.errors).toBe(1);
    expect(report.findings.map((f) => [f.check, f.severity, f.subject])).toEqual([
      ['inline-credential', 'error', 'connections[0].auth.token'],
      ['rate-limit-profile', 'warning', 'connections[0] "crm"'],
      ['no-admin-token', 'warning', 'server.adminToken'],
      ['pending-migrations', 'warning', expect.stringContaining('sqlite:')],
    ]);
    expect(json.stdout).not.toContain('pat-na1-literal');
    const text = await runCli(['doctor'], { cwd });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      'FAIL  connections[0].auth.token: a credential is written in the config file',
    );
    expect(text.stdout).toContain('      fix: write a reference such as "${MY_SECRET}"');
    expect(text.stderr).toContain('1 error found');
  });

  it('exits 0 with warnings only, and reads what the engine recorded in the store', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'patchbay.config.yaml'), 'server:\n  adminToken: ${TOKEN}\n');
    const env = { TOKEN: 'a-token-of-sixteen-chars', PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) };
    expect((await runCli(['migrate'], { cwd, env })).code).toBe(0);
    const clean = await runCli(['doctor', '--json'], { cwd, env });
    expect(clean.code).toBe(0);
    expect((JSON.parse(clean.stdout) as Report).findings).toEqual([]);

    const database = await openDatabase(`sqlite:${join(cwd, '.patchbay', 'patchbay.db')}`);
    await new OpsSignalStore(database).record('loop_block', 'handler:slow', 120, Date.now());
    await database.close();
    const flagged = await runCli(['doctor', '--json'], { cwd, env });
    expect(flagged.code).toBe(0);
    expect((JSON.parse(flagged.stdout) as Report).findings).toMatchObject([
      { check: 'event-loop-blocked', severity: 'warning', subject: 'handler "slow"' },
    ]);
  });
});
