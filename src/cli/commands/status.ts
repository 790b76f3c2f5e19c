import { Command } from 'commander';
import type { StatusDocument } from '../../health/health-service.js';
import { type AdminOptions, adminOptions, withAdminApi } from '../admin/admin-api.js';
import { formatTable } from '../table.js';
import { printJson } from '../values.js';

/** `patchbay status`: the integration health document (`GET /api/v1/status`), as a table or JSON. */
export function statusCommand(): Command {
  return adminOptions(
    new Command('status').description(
      'Show the health score (0-100) of every source, destination, connection and sync, with the reasons points were taken.',
    ),
  )
    .option('--json', 'print JSON')
    .action(async (o: AdminOptions & { json?: boolean }) => {
      await withAdminApi(o, async (api) => {
        const status = await api.get<StatusDocument>('/status');
        if (o.json) return printJson(status);
        // An older server's document has no sources.
        const all = [
          ...(status.sources ?? []),
          ...status.destinations,
          ...status.connections,
          ...status.syncs,
        ];
        const rows = all.map((item) => [
          item.kind,
          item.id,
          String(item.score),
          item.status,
          item.reasons.join('; '),
        ]);
        process.stdout.write(`${status.status} (score ${status.score})\n`);
        if (rows.length > 0)
          process.stdout.write(`${formatTable(['KIND', 'ID', 'SCORE', 'STATUS', 'REASONS'], rows)}\n`);
      });
    });
}
