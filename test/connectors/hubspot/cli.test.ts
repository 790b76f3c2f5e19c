import { once } from 'node:events';
import { Client } from '@hubspot/api-client';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';
import { startFakeCli } from '../fake-cli.js';

describe('patchbay fake hubspot', () => {
  it('serves the fake on the port it prints, with what GET /_fake lists, until SIGTERM', async () => {
    const { child, url, output } = await startFakeCli([
      'hubspot',
      '--port',
      '0',
      '--tier',
      'professional',
      '--seed',
      '30',
    ]);
    try {
      expect(output()).toContain('"clientSecret"');
      expect(output()).toContain('"tier": "professional"');
      const client = new Client({ accessToken: 'pat-na1-cli', basePath: url });
      expect(await client.crm.contacts.getAll()).toHaveLength(30);
      const page = await client.crm.companies.basicApi.getPageWithHttpInfo(10);
      expect(page.headers['x-hubspot-ratelimit-max']).toBe('190');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a tier it does not know, naming the choices', async () => {
    const result = await runCli(['fake', 'hubspot', '--tier', 'gold'], { cwd: tempDir() });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      '--tier must be one of starter, professional, enterprise, limit-increase, got "gold"',
    );
  });
});
