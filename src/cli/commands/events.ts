import { Command } from 'commander';
import { decodeCursor, encodeCursor, parseSince } from '../../core/api/pagination.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { eventDetail, eventSummary } from '../../webhooks/event-views.js';
import { type GlobalOptions, withEngine } from '../lifecycle.js';
import { CliError } from '../output.js';
import { formatTable } from '../table.js';

interface ListOptions extends GlobalOptions {
  source?: string;
  type?: string;
  since?: string;
  limit: string;
  cursor?: string;
  json?: boolean;
}

export function eventsCommand(): Command {
  const events = new Command('events').description('Inspect the event log.');

  events
    .command('list')
    .description('List events, oldest first.')
    .option('-c, --config <file>', 'config file')
    .option('--source <id>', 'only this source')
    .option('--type <type>', 'only this type (a trailing * matches a prefix: "contact.*")')
    .option('--since <time>', 'received at or after (ISO date-time, epoch ms, or a duration ago: 2h, 7d)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: ListOptions) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        throw new CliError(`--limit must be an integer from 1 to 10000, got "${options.limit}"`);
      }
      const since = parseSince(options.since, Date.now());
      const after = decodeCursor(options.cursor);
      await withEngine(options, async (engine) => {
        const rows = await engine.events.list({
          ...(options.source && { source: options.source }),
          ...(options.type && { type: options.type }),
          ...(since !== undefined && { since }),
          ...(after !== undefined && { after }),
          limit,
        });
        const page = rows.slice(0, limit).map(eventSummary);
        const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : undefined;
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ data: page, ...(next && { nextCursor: next }) }, null, 2)}\n`,
          );
          return;
        }
        process.stdout.write(
          `${formatTable(
            ['ID', 'SOURCE', 'TYPE', 'RECEIVED', 'DUPLICATES'],
            page.map((e) => [e.id, e.source, e.type, e.receivedAt, String(e.duplicates)]),
          )}\n`,
        );
        if (next) process.stdout.write(`(more: --cursor ${next})\n`);
      });
    });

  events
    .command('show')
    .description('Show one event with its headers and payload.')
    .argument('<id>', 'event id (evt_…)')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, options: GlobalOptions) => {
      await withEngine(options, async (engine) => {
        const event = await engine.events.get(id);
        if (!event) throw new PatchbayError(ErrorCode.NOT_FOUND, `no event ${id}`);
        process.stdout.write(`${JSON.stringify(eventDetail(event), null, 2)}\n`);
      });
    });

  return events;
}
