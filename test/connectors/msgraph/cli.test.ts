import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';
import { startFakeCli } from '../fake-cli.js';
import type { Json } from './helpers.js';

describe('patchbay fake msgraph', () => {
  it('serves http and https on the ports it prints, writes its certificate, answers with a token, until SIGTERM', async () => {
    const certFile = join(tempDir(), 'fake.pem');
    const { child, url, output } = await startFakeCli([
      'msgraph',
      '--port',
      '0',
      '--cert-out',
      certFile,
      '--inbox-size',
      '2',
    ]);
    try {
      const httpsUrl = /msgraph fake listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(output())![1]!;
      const info = (await (await fetch(`${url}/_fake`)).json()) as Json;
      expect(output()).toContain(info.apps[0].clientSecret);
      const app = info.apps[0];
      const dispatcher = new Agent({ connect: { ca: readFileSync(certFile, 'utf8') } });
      const token = await fetch(`${httpsUrl}/${app.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: app.clientId,
          client_secret: app.clientSecret,
          scope: 'https://graph.microsoft.com/.default',
          grant_type: 'client_credentials',
        }),
        dispatcher,
      } as never);
      const { access_token } = (await token.json()) as Json;
      const inbox = await fetch(`${httpsUrl}/v1.0/users/adele@contoso.test/mailFolders/inbox/messages`, {
        headers: { authorization: `Bearer ${access_token}` },
        dispatcher,
      } as never);
      expect(((await inbox.json()) as Json).value).toHaveLength(4); // 2 generated + 2 with attachments
      expect(await (await fetch(`${url}/_fake/tls`)).text()).toBe(readFileSync(certFile, 'utf8'));
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a bad option with a clear message', async () => {
    const result = await runCli(['fake', 'msgraph', '--max-expiration-minutes', 'soon'], { cwd: tempDir() });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--max-expiration-minutes must be a whole number ≥ 1, got "soon"');
  });
});
