import { once } from 'node:events';
import { Octokit } from '@octokit/rest';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';
import { startFakeCli } from '../fake-cli.js';

describe('patchbay fake github', () => {
  it('serves the fake on the port it prints, with what GET /_fake lists, until SIGTERM', async () => {
    const { child, url, output } = await startFakeCli([
      'github',
      '--port',
      '0',
      '--rate-limit',
      '50',
      '--seed-issues',
      '3',
    ]);
    try {
      expect(output()).toContain('"clientId"');
      const octokit = new Octokit({ auth: `ghp_${'c'.repeat(36)}`, baseUrl: url });
      const { data, headers } = await octokit.rest.issues.listForRepo({
        owner: 'octocat',
        repo: 'hello-world',
      });
      expect(data).toHaveLength(3);
      expect(headers['x-ratelimit-limit']).toBe('50');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a bad option with a clear message', async () => {
    const result = await runCli(['fake', 'github', '--rate-limit-status', '500'], { cwd: tempDir() });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--rate-limit-status must be 403 or 429, got "500"');
  });
});
