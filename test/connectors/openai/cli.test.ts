import { once } from 'node:events';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';
import { startFakeCli } from '../fake-cli.js';

describe('patchbay fake openai', () => {
  it('serves the fake on the port it prints, with its budgets, until SIGTERM', async () => {
    const { child, url, output } = await startFakeCli(['openai', '--port', '0', '--rpm', '7']);
    try {
      expect(output()).toContain('"provider": "openai"');
      const client = new OpenAI({ apiKey: 'sk-cli-0123456789', baseURL: `${url}/v1`, maxRetries: 0 });
      const { response } = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('7');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a bad option with a clear message', async () => {
    const result = await runCli(['fake', 'openai', '--rpm', 'many'], { cwd: tempDir() });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--rpm must be a whole number ≥ 1, got "many"');
  });
});
