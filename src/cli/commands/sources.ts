import { Command } from 'commander';
import { type GlobalOptions, withEngine } from '../lifecycle.js';
import { formatTable } from '../table.js';

export function sourcesCommand(): Command {
  const sources = new Command('sources').description('Webhook sources (declared in the configuration).');
  sources
    .command('list')
    .description('List sources: scheme, URL path, limits; never their secrets.')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: GlobalOptions & { json?: boolean }) => {
      await withEngine(options, async (engine) => {
        const list = (await engine.events.sources.list()).map((s) => ({
          ...s,
          url: `/webhooks/${encodeURIComponent(s.id)}`,
        }));
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ data: list }, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          `${formatTable(
            ['ID', 'SCHEME', 'URL', 'SECRETS', 'BODY LIMIT', 'RETENTION'],
            list.map((s) => [
              s.id,
              s.insecure ? `${s.scheme} (UNSIGNED)` : s.scheme,
              s.url,
              String(s.secrets),
              `${s.bodyLimit} B`,
              `${Math.round(s.retentionMs / 3_600_000)} h`,
            ]),
          )}\n`,
        );
      });
    });
  return sources;
}
