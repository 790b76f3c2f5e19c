import { Command } from 'commander';
import { CliError } from '../../output.js';
import { parseCount, parsePort, runFake } from '../fake.js';

/** The fake is loaded when it is started, not for `--help`. */
const loadFake = () => import('../../../connectors/sendgrid/fake/index.js');

interface SendGridFakeFlags {
  port: number;
  apiKey?: string;
  webhookUrl?: string;
  activityDelay?: number;
  mailSendLimit?: number;
}

export function sendgridFakeCommand(): Command {
  return new Command('sendgrid')
    .description(
      'SendGrid v3: mail send, templates, the Email Activity feed, signed Event Webhook posts, rate limits.',
    )
    .option('-p, --port <port>', 'port to listen on (0: any free port)', parsePort, 0)
    .option('--api-key <key>', 'accept only this key (default: any key of the form SG.<id>.<secret>)')
    .option('--webhook-url <url>', 'post the Event Webhook here (signed; the key is listed at GET /_fake)')
    .option(
      '--activity-delay <ms>',
      'how long a sent mail takes to show in the Email Activity feed (default: 2000)',
      parseCount('--activity-delay'),
    )
    .option(
      '--mail-send-limit <n>',
      'mail sends per second per key (default: 10000)',
      parseCount('--mail-send-limit'),
    )
    .action(async (flags: SendGridFakeFlags) => {
      if (flags.webhookUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(flags.webhookUrl)) {
        throw new CliError(`--webhook-url must be an http(s) URL, got "${flags.webhookUrl}"`);
      }
      await runFake('sendgrid', async () =>
        (await loadFake()).startSendGridFake({
          port: flags.port,
          ...(flags.apiKey !== undefined && { apiKey: flags.apiKey }),
          ...(flags.webhookUrl !== undefined && { webhookUrl: flags.webhookUrl }),
          ...(flags.activityDelay !== undefined && { activityDelayMs: flags.activityDelay }),
          ...(flags.mailSendLimit !== undefined && {
            limits: { 'mail.send': { limit: flags.mailSendLimit, periodMs: 1000 } },
          }),
        }),
      );
    });
}
