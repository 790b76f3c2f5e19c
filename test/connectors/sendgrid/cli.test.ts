import { once } from 'node:events';
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../helpers/cli.js';
import { startFakeCli } from '../fake-cli.js';

describe('patchbay fake sendgrid', () => {
  it('serves the fake on the port it prints, with its verification key, until SIGTERM', async () => {
    const { child, url, output } = await startFakeCli(['sendgrid', '--port', '0', '--api-key', 'SG.cli.key']);
    try {
      const described = JSON.parse(output().slice(output().indexOf('{'))) as {
        provider: string;
        eventWebhook: { publicKey: string };
      };
      expect(described.provider).toBe('sendgrid');
      expect(described.eventWebhook.publicKey).toMatch(/^MFkw/);
      const client = new Client();
      client.setApiKey('SG.cli.key');
      client.setDefaultRequest('baseUrl', `${url}/`);
      const mail = new MailService();
      mail.setClient(client);
      const [response] = await mail.send({
        to: 'a@example.com',
        from: 'b@example.com',
        subject: 's',
        text: 't',
      });
      expect(response.statusCode).toBe(202);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a bad option with a clear message', async () => {
    const result = await runCli(['fake', 'sendgrid', '--webhook-url', 'ftp://x'], { cwd: tempDir() });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--webhook-url must be an http(s) URL, got "ftp://x"');
  });
});
