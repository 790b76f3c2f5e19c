import { Command } from 'commander';
import { type HubSpotTier, TIERS } from '../../../connectors/hubspot/limits.js';
import { CliError } from '../../output.js';
import { parseCount, parsePort, runFake } from '../fake.js';

/** The fake is loaded when it is started, not for `--help`. */
const loadFake = () => import('../../../connectors/hubspot/fake/index.js');

interface HubSpotFakeFlags {
  port: number;
  tier?: string;
  seed?: number;
  token?: string;
  timeZone?: string;
}

export function hubspotFakeCommand(): Command {
  return new Command('hubspot')
    .description(
      'HubSpot CRM: objects, properties, batches (207 partials), search (its limits and lag), associations v4, owners, the 10 s / daily / search buckets, v3-signed webhooks with retries.',
    )
    .option('-p, --port <port>', 'port to listen on (0: any free port)', parsePort, 0)
    .option('--tier <tier>', `account tier, which sets the limits: ${TIERS.join(', ')} (default: starter)`)
    .option(
      '--seed <n>',
      'contacts to create at start (and a tenth as many companies and deals)',
      parseCount('--seed'),
    )
    .option('--token <token>', 'accept only this bearer token (default: any)')
    .option(
      '--time-zone <zone>',
      "the account's time zone, whose midnight resets the daily count (default: UTC)",
    )
    .action(async (flags: HubSpotFakeFlags) => {
      if (flags.tier !== undefined && !TIERS.includes(flags.tier as HubSpotTier)) {
        throw new CliError(`--tier must be one of ${TIERS.join(', ')}, got "${flags.tier}"`);
      }
      if (flags.token !== undefined && flags.token.trim() === '')
        throw new CliError('--token must not be empty');
      await runFake('hubspot', async () => {
        try {
          return await (await loadFake()).startHubSpotFake({
            port: flags.port,
            ...(flags.tier !== undefined && { tier: flags.tier as HubSpotTier }),
            ...(flags.seed !== undefined && { seed: flags.seed }),
            ...(flags.token !== undefined && { token: flags.token }),
            ...(flags.timeZone !== undefined && { timeZone: flags.timeZone }),
          });
        } catch (error) {
          throw new CliError((error as Error).message);
        }
      });
    });
}
