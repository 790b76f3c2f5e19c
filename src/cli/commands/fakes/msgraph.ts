import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { CliError } from '../../output.js';
import { parseCount, parsePort, runFake } from '../fake.js';

/** The fake is loaded when it is started, not for `--help`. */
const loadFake = () => import('../../../connectors/msgraph/fake/index.js');

interface MsGraphFakeFlags {
  port: number;
  httpsPort: number;
  https: boolean;
  certOut?: string;
  inboxSize?: number;
  maxExpirationMinutes?: number;
  allowHttpNotifications?: boolean;
  latency?: number;
}

export function msgraphFakeCommand(): Command {
  return new Command('msgraph')
    .description(
      'Microsoft Graph mail and its Entra ID token endpoint: users, folders, messages, attachments, delta, sendMail, $batch, subscriptions.',
    )
    .option('-p, --port <port>', 'port of the http listener (0: any free port)', parsePort, 0)
    .option('--https-port <port>', 'port of the https listener (0: any free port)', parsePort, 0)
    .option('--no-https', 'serve http only (the Graph SDK sends its token to https hosts only)')
    .option(
      '--cert-out <file>',
      'write the self-signed certificate (PEM) here, to trust it (NODE_EXTRA_CA_CERTS)',
    )
    .option(
      '--inbox-size <n>',
      'generated messages in each default user’s Inbox (default: 5)',
      parseCount('--inbox-size'),
    )
    .option(
      '--max-expiration-minutes <n>',
      'longest subscription lifetime (default: 4230)',
      parseCount('--max-expiration-minutes'),
    )
    .option('--allow-http-notifications', 'accept http:// notification URLs (Graph requires https)')
    .option('--latency <ms>', 'time each mailbox request takes, in ms', parseCount('--latency'))
    .action(async (flags: MsGraphFakeFlags) => {
      if (flags.certOut !== undefined && !flags.https)
        throw new CliError('--cert-out needs https (drop --no-https)');
      await runFake('msgraph', async () => {
        const fake = await (await loadFake()).startMsGraphFake({
          port: flags.port,
          httpsPort: flags.httpsPort,
          https: flags.https,
          ...(flags.inboxSize !== undefined && { inboxSize: flags.inboxSize }),
          ...(flags.maxExpirationMinutes !== undefined && {
            maxExpirationMinutes: flags.maxExpirationMinutes,
          }),
          ...(flags.allowHttpNotifications && { allowHttpNotificationUrls: true }),
          ...(flags.latency !== undefined && { latencyMs: flags.latency }),
        });
        if (flags.certOut !== undefined) writeFileSync(flags.certOut, fake.ca!);
        return fake;
      });
    });
}
