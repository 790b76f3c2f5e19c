import { Command } from 'commander';
import type { eventDetail, eventSummary } from '../../webhooks/event-views.js';
import { type AdminOptions, adminOptions, withAdminApi } from '../admin/admin-api.js';
import { formatTable } from '../table.js';
import { parseLimit, printJson, printMore, seg } from '../values.js';

type EventSummary = ReturnType<typeof eventSummary>;

interface ListOptions extends AdminOptions {
  source?: string;
  type?: string;
  since?: string;
  limit: string;
  cursor?: string;
  json?: boolean;
}

export function eventsCommand(): Command {
  const events = new Command('events').description('Inspect the event log.');

  adminOptions(events.command('list').description('List events, oldest first.'))
    .option('--source <id>', 'only this source')
    .option('--type <type>', 'only this type (a trailing * matches a prefix: "contact.*")')
    .option('--since <time>', 'received at or after (ISO date-time, epoch ms, or a duration ago: 2h, 7d)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON instead of a table')
    .action(async (o: ListOptions) => {
      const limit = parseLimit(o.limit, 10_000);
      await withAdminApi(o, async (api) => {
        const page = await api.list<EventSummary>(
          '/events',
          { source: o.source, type: o.type, since: o.since },
          limit,
          o.cursor,
        );
        if (o.json) return printJson(page);
        process.stdout.write(
          `${formatTable(
            ['ID', 'SOURCE', 'TYPE', 'RECEIVED', 'DUPLICATES'],
            page.data.map((e) => [e.id, e.source, e.type, e.receivedAt, String(e.duplicates)]),
          )}\n`,
        );
        printMore(page.nextCursor);
      });
    });

  adminOptions(
    events
      .command('show')
      .description('Show one event with its headers, payload and deliveries.')
      .argument('<id>', 'event id (evt_…)'),
  ).action(async (id: string, o: AdminOptions) => {
    await withAdminApi(o, async (api) =>
      printJson(await api.get<ReturnType<typeof eventDetail>>(`/events/${seg(id)}`)),
    );
  });

  return events;
}
