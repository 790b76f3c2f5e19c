import { Command } from 'commander';
import { CliError } from '../../output.js';
import { parseCount, parsePort, runFake } from '../fake.js';

/** The fake is loaded when it is started, not for `--help`. */
const loadFake = () => import('../../../connectors/finale/fake/index.js');

interface FinaleFakeFlags {
  port: number;
  account?: string;
  apiKey?: string;
  apiSecret?: string;
  rateLimit?: number;
}

export function finaleFakeCommand(): Command {
  return new Command('finale')
    .description(
      'Finale Inventory REST: products, facilities, vendors, purchase orders, inventory and variances.',
    )
    .option('-p, --port <port>', 'port to listen on (0: any free port)', parsePort, 0)
    .option('--account <name>', 'the account in every URL, /<account>/api/… (default: demo)')
    .option('--api-key <key>', 'the API key Basic auth accepts (default: fake-api-key)')
    .option('--api-secret <secret>', 'its secret (default: fake-api-secret)')
    .option('--rate-limit <n>', 'GETs and POSTs per minute, each (default: 120)', parseCount('--rate-limit'))
    .action(async (flags: FinaleFakeFlags) => {
      if (flags.account !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(flags.account)) {
        throw new CliError(`--account must be letters, digits, "-" or "_", got "${flags.account}"`);
      }
      const limit = flags.rateLimit && { limit: flags.rateLimit, periodMs: 60_000 };
      await runFake('finale', async () =>
        (await loadFake()).startFinaleFake({
          port: flags.port,
          ...(flags.account !== undefined && { account: flags.account }),
          ...(flags.apiKey !== undefined && { apiKey: flags.apiKey }),
          ...(flags.apiSecret !== undefined && { apiSecret: flags.apiSecret }),
          ...(limit && { limits: { GET: limit, POST: limit } }),
        }),
      );
    });
}
