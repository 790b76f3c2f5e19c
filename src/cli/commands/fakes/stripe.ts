import { Command } from 'commander';
import { parseCount, parsePort, runFake } from '../fake.js';

/** The fake is loaded when it is started, not for `--help`. */
const loadFake = () => import('../../../connectors/stripe/fake/index.js');

interface StripeFakeFlags {
  port: number;
  readLimit?: number;
  writeLimit?: number;
  customers?: number;
}

export function stripeFakeCommand(): Command {
  return new Command('stripe')
    .description(
      'Stripe (v1): customers, payment intents with the test cards, charges, refunds, events and signed webhooks, idempotency keys, per-second limits.',
    )
    .option('-p, --port <port>', 'port to listen on (0: any free port)', parsePort, 0)
    .option('--read-limit <n>', 'reads per second (default: 25, a sandbox)', parseCount('--read-limit'))
    .option('--write-limit <n>', 'writes per second (default: 25, a sandbox)', parseCount('--write-limit'))
    .option('--customers <n>', 'customers to create at start', parseCount('--customers'))
    .action(async (flags: StripeFakeFlags) => {
      await runFake('stripe', async () => {
        const fake = await (await loadFake()).startStripeFake({
          port: flags.port,
          rateLimit: {
            ...(flags.readLimit !== undefined && { read: flags.readLimit }),
            ...(flags.writeLimit !== undefined && { write: flags.writeLimit }),
          },
        });
        if (flags.customers) {
          await fetch(`${fake.url}/_fake/seed`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ customers: flags.customers }),
          });
        }
        return fake;
      });
    });
}
