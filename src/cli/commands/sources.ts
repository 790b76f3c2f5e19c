import { Command } from 'commander';
import type { SourceView } from '../../webhooks/ingress.js';
import { type AdminOptions, adminOptions, withAdminApi } from '../admin/admin-api.js';
import { formatTable } from '../table.js';
import { printJson } from '../values.js';

export function sourcesCommand(): Command {
  const sources = new Command('sources').description(
    'Webhook sources (of the configuration file and made through the API).',
  );
  adminOptions(
    sources.command('list').description('List sources: scheme, URL path, limits; never their secrets.'),
  )
    .option('--json', 'print JSON instead of a table')
    .action(async (o: AdminOptions & { json?: boolean }) => {
      await withAdminApi(o, async (api) => {
        const list = await api.get<{ data: (SourceView & { url: string })[] }>('/sources');
        if (o.json) return printJson(list);
        process.stdout.write(
          `${formatTable(
            ['ID', 'SCHEME', 'URL', 'SECRETS', 'BODY LIMIT', 'RETENTION'],
            list.data.map((s) => [
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
