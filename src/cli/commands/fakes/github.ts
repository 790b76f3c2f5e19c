import { Command } from 'commander';
import { CliError } from '../../output.js';
import { parseCount, parsePort, runFake } from '../fake.js';

/** The fake is loaded when it is started, not for `--help`. */
const loadFake = () => import('../../../connectors/github/fake/index.js');

interface GitHubFakeFlags {
  port: number;
  login?: string;
  rateLimit?: number;
  rateLimitStatus?: string;
  seedIssues?: number;
}

export function githubFakeCommand(): Command {
  return new Command('github')
    .description(
      'GitHub REST: repositories, issues, pull requests, hooks and deliveries, rate limits, OAuth app flow.',
    )
    .option('-p, --port <port>', 'port to listen on (0: any free port)', parsePort, 0)
    .option('--login <login>', 'login of the authenticated user (default: octocat)')
    .option('--rate-limit <n>', 'requests per hour with a token (default: 5000)', parseCount('--rate-limit'))
    .option('--rate-limit-status <status>', 'status of an exhausted limit: 403 or 429 (default: 403)')
    .option(
      '--seed-issues <n>',
      'issues to create in octocat/hello-world at start',
      parseCount('--seed-issues'),
    )
    .action(async (flags: GitHubFakeFlags) => {
      const status = flags.rateLimitStatus === undefined ? undefined : Number(flags.rateLimitStatus);
      if (status !== undefined && status !== 403 && status !== 429) {
        throw new CliError(`--rate-limit-status must be 403 or 429, got "${flags.rateLimitStatus}"`);
      }
      await runFake('github', async () => {
        const fake = await (await loadFake()).startGitHubFake({
          port: flags.port,
          ...(flags.login !== undefined && { login: flags.login }),
          ...(flags.rateLimit !== undefined && { rateLimit: flags.rateLimit }),
          ...(status !== undefined && { rateLimitStatus: status as 403 | 429 }),
        });
        if (flags.seedIssues) {
          await fetch(`${fake.url}/_fake/seed`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ repos: [{ name: 'hello-world', issues: flags.seedIssues }] }),
          });
        }
        return fake;
      });
    });
}
