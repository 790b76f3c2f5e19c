import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/http/ssrf/index.js';
import { SsrfPolicy } from '../../src/http/ssrf/index.js';
import { MailSender } from '../../src/webhooks/delivery/mail/mail-sender.js';
import { MailServer } from '../helpers/mail-server.js';

/** A public address for the name; the test's connector reaches the local server in its place. */
const PUBLIC = '93.184.216.34';

describe('MailSender', () => {
  let mail: MailServer;
  beforeAll(async () => {
    mail = await new MailServer().start(); // no STARTTLS
  });
  afterAll(() => mail.stop());

  const send = (allowedNetworks: string[]) => {
    const dialed: string[] = [];
    const connect: Connector = (options, done) => {
      dialed.push(options.hostname);
      const socket = netConnect({ host: '127.0.0.1', port: mail.port });
      socket.once('error', (err) => done(err, null));
      socket.once('connect', () => done(null, socket));
    };
    const sender = new MailSender({
      policy: new SsrfPolicy({ allowedNetworks }),
      resolver: async () => [{ address: PUBLIC, family: 4 }],
      connect,
    });
    const result = sender.send({
      url: new URL(`smtp://mail.example.test:${mail.port}`),
      email: { from: 'a@example.com', to: ['b@example.com'] },
      message: { subject: 'hello', text: 'body' },
      messageId: '<m1@patchbay>',
      timeoutMs: 10_000,
    });
    return { result, dialed };
  };

  it('requires STARTTLS of a server outside the allowed networks, as https is required there', async () => {
    mail.received.length = 0;
    const { result, dialed } = send([]);
    const outcome = await result;
    expect(dialed).toEqual([PUBLIC]);
    expect(outcome.outcome).toBe('failed');
    expect(outcome).toMatchObject({ errorCode: 'MAIL_REJECTED' });
    expect(outcome.errorMessage).toMatch(/answering STARTTLS/);
    expect(mail.received).toEqual([]);
  });

  it('sends in plain text to a server inside the allowed networks, as plain http is allowed there', async () => {
    mail.received.length = 0;
    const { result } = send([`${PUBLIC}/32`]);
    expect(await result).toMatchObject({ outcome: 'succeeded', errorCode: null });
    expect(mail.received.map((m) => m.headers.subject)).toEqual(['hello']);
  });
});
