import { Command } from 'commander';
import type { DestinationView } from '../../webhooks/delivery/deliveries-service.js';
import type { attemptView, deliveryView } from '../../webhooks/delivery/delivery-views.js';
import { type AdminOptions, adminOptions, withAdminApi } from '../admin/admin-api.js';
import { progressBar } from '../progress.js';
import { formatTable } from '../table.js';
import { oneOf, parseLimit, printJson, printMore, seg } from '../values.js';

const STATUSES = ['pending', 'succeeded', 'failed'] as const;
type DeliveryView = ReturnType<typeof deliveryView>;

export function deliveriesCommand(): Command {
  const deliveries = new Command('deliveries').description('Inspect and replay deliveries.');

  adminOptions(deliveries.command('list').description('List deliveries, oldest first.'))
    .option('--destination <id>', 'only this destination')
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--event <id>', 'only deliveries of this event')
    .option('--since <time>', 'created at or after (ISO date-time, epoch ms, or a duration ago: 2h, 7d)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON')
    .action(
      async (
        o: AdminOptions & {
          destination?: string;
          status?: string;
          event?: string;
          since?: string;
          limit: string;
          cursor?: string;
          json?: boolean;
        },
      ) => {
        const status = oneOf(o.status, STATUSES, '--status');
        const limit = parseLimit(o.limit, 10_000);
        await withAdminApi(o, async (api) => {
          const page = await api.list<DeliveryView>(
            '/deliveries',
            { destination: o.destination, status, event: o.event, since: o.since },
            limit,
            o.cursor,
          );
          if (o.json) return printJson(page);
          process.stdout.write(
            `${formatTable(
              ['ID', 'DESTINATION', 'STATUS', 'ATTEMPTS', 'LAST', 'EVENT'],
              page.data.map((d) => [
                d.id,
                d.destinationId,
                d.status,
                String(d.attempts),
                d.lastStatus ? String(d.lastStatus) : (d.lastError ?? ''),
                d.eventId,
              ]),
            )}\n`,
          );
          printMore(page.nextCursor);
        });
      },
    );

  adminOptions(
    deliveries
      .command('show')
      .description('Show a delivery with every attempt.')
      .argument('<id>', 'delivery id (dlv_…)'),
  ).action(async (id: string, o: AdminOptions) => {
    await withAdminApi(o, async (api) =>
      printJson(
        await api.get<DeliveryView & { attemptLog: ReturnType<typeof attemptView>[] }>(
          `/deliveries/${seg(id)}`,
        ),
      ),
    );
  });

  adminOptions(
    deliveries
      .command('replay')
      .description(
        'Send a delivery again (restarts its retry schedule; the running server or workers send it).',
      )
      .argument('<id>', 'delivery id (dlv_…)'),
  ).action(async (id: string, o: AdminOptions) => {
    await withAdminApi(o, async (api) => {
      const delivery = await api.post<DeliveryView>(`/deliveries/${seg(id)}/replay`);
      process.stdout.write(`${delivery.id} queued for delivery to ${delivery.destinationId}\n`);
    });
  });

  return deliveries;
}

export function destinationsCommand(): Command {
  const destinations = new Command('destinations').description(
    'Inspect, enable, disable and recover destinations.',
  );

  adminOptions(destinations.command('list').description('List destinations with their state.'))
    .option('--json', 'print JSON')
    .action(async (o: AdminOptions & { json?: boolean }) => {
      await withAdminApi(o, async (api) => {
        const views = await api.get<{ data: DestinationView[] }>('/destinations');
        if (o.json) return printJson(views);
        process.stdout.write(
          `${formatTable(
            ['ID', 'KIND', 'STATUS', 'FAILING SINCE', 'TARGET'],
            views.data.map((d) => [
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

  adminOptions(
    destinations
      .command('secret')
      .description(
        'Print the signing secrets of an HTTP destination (whsec_…), for its receiver to verify with.',
      )
      .argument('<id>'),
  ).action(async (id: string, o: AdminOptions) => {
    await withAdminApi(o, async (api) => {
      const { secrets } = await api.get<{ secrets: string[] }>(`/destinations/${seg(id)}/secret`);
      for (const secret of secrets) process.stdout.write(`${secret}\n`);
    });
  });

  adminOptions(
    destinations.command('enable').description('Re-enable a disabled destination.').argument('<id>'),
  ).action(async (id: string, o: AdminOptions) => {
    await withAdminApi(o, async (api) => {
      await api.post(`/destinations/${seg(id)}/enable`);
      process.stdout.write(`${id} enabled\n`);
    });
  });

  adminOptions(
    destinations
      .command('disable')
      .description('Disable a destination (its new deliveries are recorded as failed, replayable later).')
      .argument('<id>'),
  )
    .option('--reason <text>', 'why, shown in the destination state', 'disabled by an operator')
    .action(async (id: string, o: AdminOptions & { reason: string }) => {
      await withAdminApi(o, async (api) => {
        await api.post(`/destinations/${seg(id)}/disable`, { reason: o.reason });
        process.stdout.write(`${id} disabled\n`);
      });
    });

  adminOptions(
    destinations
      .command('recover')
      .description(
        'Replay every failed delivery of a destination since a time (≤ 14 days, ≤ 10,000), with progress.',
      )
      .argument('<id>'),
  )
    .requiredOption('--since <time>', 'ISO date-time, epoch ms, or a duration ago (2h, 7d)')
    .option('--limit <n>', 'at most this many', '10000')
    .action(async (id: string, o: AdminOptions & { since: string; limit: string }) => {
      const limit = parseLimit(o.limit, 10_000);
      await withAdminApi(o, async (api) => {
        const bar = progressBar(`recovering ${id}`);
        try {
          const { replayed } = await api.withProgress<{ replayed: number }>(
            { method: 'POST', path: `/destinations/${seg(id)}/recover`, body: { since: o.since, limit } },
            (done, total) => bar.update(done, total),
          );
          bar.stop();
          process.stdout.write(`${replayed} deliveries queued again for ${id}\n`);
        } finally {
          bar.stop();
        }
      });
    });

  return destinations;
}
