import { Command } from 'commander';
import { decodeCursor, encodeCursor, parseSince } from '../../core/api/pagination.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { DeliveryStatus } from '../../store/schema.js';
import { attemptView, deliveryView } from '../../webhooks/delivery/delivery-views.js';
import { type GlobalOptions, withEngine } from '../lifecycle.js';
import { CliError } from '../output.js';
import { progressBar } from '../progress.js';
import { formatTable } from '../table.js';

const STATUSES = ['pending', 'succeeded', 'failed'];

function parseLimit(value: string, max: number): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new CliError(`--limit must be an integer from 1 to ${max}, got "${value}"`);
  return limit;
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

export function deliveriesCommand(): Command {
  const deliveries = new Command('deliveries').description('Inspect and replay deliveries.');

  deliveries
    .command('list')
    .description('List deliveries, oldest first.')
    .option('-c, --config <file>', 'config file')
    .option('--destination <id>', 'only this destination')
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--event <id>', 'only deliveries of this event')
    .option('--since <time>', 'created at or after (ISO date-time, epoch ms, or a duration ago: 2h, 7d)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON')
    .action(
      async (
        o: GlobalOptions & {
          destination?: string;
          status?: string;
          event?: string;
          since?: string;
          limit: string;
          cursor?: string;
          json?: boolean;
        },
      ) => {
        if (o.status !== undefined && !STATUSES.includes(o.status))
          throw new CliError(`--status must be one of ${STATUSES.join(', ')}, got "${o.status}"`);
        const limit = parseLimit(o.limit, 10_000);
        const since = parseSince(o.since, Date.now());
        const after = decodeCursor(o.cursor);
        await withEngine(o, async (engine) => {
          const rows = await engine.delivery.list({
            ...(o.destination && { destinationId: o.destination }),
            ...(o.status && { status: o.status as DeliveryStatus }),
            ...(o.event && { eventId: o.event }),
            ...(since !== undefined && { since }),
            ...(after !== undefined && { after }),
            limit,
          });
          const page = rows.slice(0, limit).map(deliveryView);
          const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : undefined;
          if (o.json) return print({ data: page, ...(next && { nextCursor: next }) });
          process.stdout.write(
            `${formatTable(
              ['ID', 'DESTINATION', 'STATUS', 'ATTEMPTS', 'LAST', 'EVENT'],
              page.map((d) => [
                d.id,
                d.destinationId,
                d.status,
                String(d.attempts),
                d.lastStatus ? String(d.lastStatus) : (d.lastError ?? ''),
                d.eventId,
              ]),
            )}\n`,
          );
          if (next) process.stdout.write(`(more: --cursor ${next})\n`);
        });
      },
    );

  deliveries
    .command('show')
    .description('Show a delivery with every attempt.')
    .argument('<id>', 'delivery id (dlv_…)')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) => {
        const delivery = await engine.delivery.get(id);
        if (!delivery) throw new PatchbayError(ErrorCode.NOT_FOUND, `no delivery ${id}`);
        print({
          ...deliveryView(delivery),
          attemptLog: (await engine.delivery.attempts(id)).map(attemptView),
        });
      });
    });

  deliveries
    .command('replay')
    .description(
      'Send a delivery again (restarts its retry schedule; the running server or workers send it).',
    )
    .argument('<id>', 'delivery id (dlv_…)')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) => {
        const delivery = await engine.delivery.replay(id);
        process.stdout.write(`${delivery.id} queued for delivery to ${delivery.destination_id}\n`);
      });
    });

  return deliveries;
}

export function destinationsCommand(): Command {
  const destinations = new Command('destinations').description(
    'Inspect, enable, disable and recover destinations.',
  );

  destinations
    .command('list')
    .description('List destinations with their state.')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(async (o: GlobalOptions & { json?: boolean }) => {
      await withEngine(o, async (engine) => {
        const views = await engine.delivery.destinations.list();
        if (o.json) return print({ data: views });
        process.stdout.write(
          `${formatTable(
            ['ID', 'KIND', 'STATUS', 'FAILING SINCE', 'TARGET'],
            views.map((d) => [
              d.id,
              d.kind,
              d.status,
              d.failingSince ?? '',
              'url' in d ? String(d.url) : '(in-process)',
            ]),
          )}\n`,
        );
      });
    });

  destinations
    .command('secret')
    .description(
      'Print the signing secrets of an HTTP destination (whsec_…), for its receiver to verify with.',
    )
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) => {
        for (const secret of await engine.delivery.destinations.secrets(id))
          process.stdout.write(`${secret}\n`);
      });
    });

  destinations
    .command('enable')
    .description('Re-enable a disabled destination.')
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) => {
        await engine.delivery.destinations.enable(id);
        process.stdout.write(`${id} enabled\n`);
      });
    });

  destinations
    .command('disable')
    .description('Disable a destination (its new deliveries are recorded as failed, replayable later).')
    .argument('<id>')
    .option('--reason <text>', 'why, shown in the destination state', 'disabled by an operator')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions & { reason: string }) => {
      await withEngine(o, async (engine) => {
        await engine.delivery.destinations.disable(id, o.reason);
        process.stdout.write(`${id} disabled\n`);
      });
    });

  destinations
    .command('recover')
    .description(
      'Replay every failed delivery of a destination since a time (≤ 14 days, ≤ 10,000), with progress.',
    )
    .argument('<id>')
    .requiredOption('--since <time>', 'ISO date-time, epoch ms, or a duration ago (2h, 7d)')
    .option('--limit <n>', 'at most this many', '10000')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions & { since: string; limit: string }) => {
      const since = parseSince(o.since, Date.now())!;
      const limit = parseLimit(o.limit, 10_000);
      await withEngine(o, async (engine) => {
        const bar = progressBar(`recovering ${id}`);
        try {
          const { replayed } = await engine.delivery.recover(id, {
            since,
            limit,
            onProgress: (done, total) => bar.update(done, total),
          });
          bar.stop();
          process.stdout.write(`${replayed} deliveries queued again for ${id}\n`);
        } finally {
          bar.stop();
        }
      });
    });

  return destinations;
}
