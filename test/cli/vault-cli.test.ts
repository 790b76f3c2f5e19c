import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeyList } from '../../src/vault/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

const TOKEN = 'cli-bearer-token-6d1f0a9b3c';

describe('patchbay connections and keys', () => {
  it('generates keys that PATCHBAY_ENCRYPTION_KEY accepts', async () => {
    const result = await runCli(['keys', 'generate'], { cwd: tempDir() });
    expect(result.code).toBe(0);
    const [key] = parseKeyList(result.stdout.trim(), 'output');
    expect(key!.key).toHaveLength(32);
    expect(result.stdout.trim()).toMatch(/^k[0-9a-f]{12}:[A-Za-z0-9+/]{43}=$/);
  });

  it('adds, lists and shows connections with the generated key, never printing a secret', async () => {
    const cwd = tempDir();
    const added = await runCli(
      [
        'connections',
        'add',
        'crm',
        '--scheme',
        'bearer',
        '--base-url',
        'https://api.example.com',
        '--secret',
        'token=CRM_TOKEN',
      ],
      {
        cwd,
        env: { CRM_TOKEN: TOKEN },
      },
    );
    expect(added.stderr).toContain('NO ENCRYPTION KEY CONFIGURED: generated one in');
    expect(added.code).toBe(0);
    expect(added.stdout).toBe('crm created (bearer, active)\n');
    const keyFile = join(cwd, '.patchbay', 'encryption.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const list = await runCli(['connections', 'list'], { cwd });
    expect(list.stdout).toMatch(/^ID\s+PROVIDER\s+SCHEME\s+STATUS/);
    expect(list.stdout).toMatch(/crm\s+custom\s+bearer\s+active/);
    expect(list.stderr).toBe('');
    const shown = await runCli(['connections', 'show', 'crm'], { cwd });
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: 'crm',
      auth: { scheme: 'bearer', token: '••••••••' },
    });
    const missingSecret = await runCli(
      ['connections', 'add', 'x', '--scheme', 'bearer', '--secret', 'token=NOPE'],
      { cwd },
    );
    expect(missingSecret.code).toBe(1);
    expect(missingSecret.stderr.trim()).toBe(
      'patchbay: --secret token: environment variable NOPE is not set',
    );
    const file = join(cwd, 'conn.yaml');
    writeFileSync(file, 'id: graph\nauth:\n  scheme: api-key\n  key: "${GRAPH_KEY}"\n  in: query\n');
    const fromFile = await runCli(['connections', 'add', '--file', file], {
      cwd,
      env: { GRAPH_KEY: 'graph-key-0001' },
    });
    expect(fromFile.stdout).toBe('graph created (api-key, active)\n');
    for (const r of [added, list, shown, fromFile]) {
      expect(r.stdout + r.stderr).not.toContain(TOKEN);
      expect(r.stdout + r.stderr).not.toContain('graph-key-0001');
    }
    // Five CLI processes, each opening the store and building the admin API it injects into.
  }, 120_000);

  it('refuses to start with a wrong key or without the key, in one line', async () => {
    const cwd = tempDir();
    await runCli(['connections', 'add', 'crm', '--scheme', 'bearer', '--secret', 'token=CRM_TOKEN'], {
      cwd,
      env: { CRM_TOKEN: TOKEN },
    });
    const other = (await runCli(['keys', 'generate'], { cwd })).stdout.trim();
    const wrong = await runCli(['start'], { cwd, env: { PATCHBAY_ENCRYPTION_KEY: other } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(
      /^patchbay: the encryption key does not match this database: its secrets are encrypted with key "k[0-9a-f]{12}", but PATCHBAY_ENCRYPTION_KEY holds only "k[0-9a-f]{12}"\./,
    );
    const good = await runCli(['doctor'], { cwd });
    expect(good.stdout).toMatch(/ok {4}encryption key from .*encryption\.key \(primary k[0-9a-f]{12}\)/);
    const doctor = await runCli(['doctor'], { cwd, env: { PATCHBAY_ENCRYPTION_KEY: other } });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain('FAIL  vault: the encryption key does not match this database');
    rmSync(join(cwd, '.patchbay', 'encryption.key'));
    const missing = await runCli(['start'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(
      /^patchbay: no encryption key is configured, but this database holds secrets encrypted with key "k[0-9a-f]{12}": set PATCHBAY_ENCRYPTION_KEY/,
    );
    expect(existsSync(join(cwd, '.patchbay', 'encryption.key'))).toBe(false);
    // Seven CLI processes, each opening the store.
  }, 120_000);

  it('rotates the key with progress, and the data still reads', async () => {
    const cwd = tempDir();
    for (let i = 0; i < 5; i++) {
      await runCli(['connections', 'add', `c${i}`, '--scheme', 'bearer', '--secret', 'token=CRM_TOKEN'], {
        cwd,
        env: { CRM_TOKEN: `${TOKEN}-${i}` },
      });
    }
    const before = JSON.parse((await runCli(['keys', 'list', '--json'], { cwd })).stdout);
    expect(before.keys).toMatchObject([{ status: 'primary', values: 5, loaded: true }]);
    const rotated = await runCli(['keys', 'rotate', '--batch-size', '2'], { cwd, timeoutMs: 30_000 });
    expect(rotated.code).toBe(0);
    expect(rotated.stderr).toContain('re-encrypting: 0/5 (0%)');
    expect(rotated.stderr).toContain('re-encrypting: 5/5 (100%)');
    expect(rotated.stdout).toMatch(
      /^every stored secret is now encrypted with key k[0-9a-f]{12} \(5 re-encrypted\)\n/,
    );
    expect(rotated.stdout).toContain(`retired ${before.keys[0].id}: they were removed from the key file`);
    const after = JSON.parse((await runCli(['keys', 'list', '--json'], { cwd })).stdout);
    expect(after.keys.map((k: { status: string; values: number }) => [k.status, k.values])).toEqual([
      ['retired', 0],
      ['primary', 5],
    ]);
    const shown = await runCli(['connections', 'show', 'c3'], { cwd });
    expect(shown.code).toBe(0);
    const again = await runCli(['keys', 'rotate'], {
      cwd,
      env: { PATCHBAY_ENCRYPTION_KEY: (await runCli(['keys', 'generate'], { cwd })).stdout.trim() },
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^patchbay: the encryption key does not match this database/);
    // Eleven CLI processes, each opening the store: minutes on a loaded machine, not a timing assumption.
  }, 180_000);
});
