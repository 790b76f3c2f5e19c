import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';
import { startFakeCli } from '../fake-cli.js';

describe('patchbay fake finale', () => {
  it('serves the account-scoped API on the port it prints, with its credentials, until SIGTERM', async () => {
    const { child, url, output } = await startFakeCli(['finale', '--port', '0', '--account', 'acme']);
    try {
      const described = JSON.parse(output().slice(output().indexOf('{'))) as {
        apiBase: string;
        basicAuth: { key: string; secret: string };
      };
      expect(described.apiBase).toBe('/acme/api');
      const basic = Buffer.from(`${described.basicAuth.key}:${described.basicAuth.secret}`).toString(
        'base64',
      );
      const response = await fetch(`${url}/acme/api/facility`, {
        headers: { authorization: `Basic ${basic}` },
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { facilityName: string[] }).facilityName).toEqual([
        'Main Warehouse',
      ]);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a bad option with a clear message', async () => {
    const result = await runCli(['fake', 'finale', '--account', 'a/b'], { cwd: tempDir() });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--account must be letters, digits, "-" or "_", got "a/b"');
  });
});
