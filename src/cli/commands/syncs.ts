import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import type { RetryResult } from '../../sync/quarantine-retry.js';
import type { conflictView, quarantineView, recordView, runView, statusView } from '../../sync/sync-views.js';
import type { VerifyReport } from '../../sync/verify.js';
import { type AdminApi, type AdminOptions, adminOptions, withAdminApi } from '../admin/admin-api.js';
import type { AdminRequest } from '../admin/transport.js';
import { CliError } from '../output.js';
import { progressBar, progressCounter } from '../progress.js';
import { formatTable } from '../table.js';
import { oneOf, parseLimit, printJson, printMore, seg } from '../values.js';

type RunView = ReturnType<typeof runView>;
type StatusView = ReturnType<typeof statusView>;
type Options = AdminOptions & Record<string, string | boolean | undefined>;

const write = (line: string) => process.stdout.write(`${line}\n`);
const ago = (iso: string | null) => (iso === null ? '' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
const QUARANTINE_STATUSES = ['open', 'resolved', 'discarded', 'superseded'] as const;
/** How often `--follow` and `verify` read the run they follow. */
const POLL_MS = 500;

/** One line of a run: its counts, as a person reads them. */
function runLine(run: RunView): string {
  const parts = [
    `${run.status}`,
    `${run.mode}`,
    `seen ${run.seen}`,
    `created ${run.created}`,
    `updated ${run.updated}`,
    `deleted ${run.deleted}`,
  ];
  if (run.quarantined > 0) parts.push(`quarantined ${run.quarantined}`);
  if (run.pushed + run.pushFailed > 0) parts.push(`pushed ${run.pushed}`, `push failed ${run.pushFailed}`);
  if (run.conflicts > 0) parts.push(`conflicts ${run.conflicts}`);
  if (run.deletesHeld > 0) parts.push(`deletes held ${run.deletesHeld}`);
  if (run.durationMs !== null) parts.push(`${(run.durationMs / 1000).toFixed(1)} s`);
  return parts.join(', ');
}

function report(run: RunView): number {
  write(`run ${run.id}: ${runLine(run)}`);
  if (run.error) write(`error: ${run.errorCode}: ${run.error}`);
  if (run.report) write(`report: ${JSON.stringify(run.report)}`);
  return run.status === 'succeeded' ? 0 : 1;
}

function verifyText(report: VerifyReport): string[] {
  const drift = (name: string, d: VerifyReport['missing']) =>
    `${name}: ${d.count}${d.ids.length > 0 ? ` (${d.ids.slice(0, 10).join(', ')}${d.count > 10 ? ', …' : ''})` : ''}`;
  return [
    `source records: ${report.sourceRecords}, local records: ${report.localRecords}, invalid at the source: ${report.invalid}`,
    drift('missing locally', report.missing),
    drift('extra locally', report.extra),
    drift('different', report.different),
    report.repaired ? 'repaired: the store now matches the source' : '',
  ].filter((l) => l !== '');
}

/**
 * Reads a run until it ends, its records seen on `bar` (against the store's record count, the best
 * guess of what a read will see). Ctrl-C stops following; locally the run is in this process, and
 * closing the engine stops it (what it committed stays).
 */
async function follow(
  api: AdminApi,
  sync: string,
  runId: string,
  bar: { update(done: number, total: number): void; stop(): void },
  records: number,
): Promise<RunView> {
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort();
  process.once('SIGINT', interrupt);
  try {
    for (;;) {
      const run = await api.get<RunView>(`/syncs/${seg(sync)}/runs/${seg(runId)}`);
      bar.update(run.seen, Math.max(records, run.seen));
      if (run.status !== 'running') return run;
      if (interrupted.signal.aborted) {
        throw new CliError(
          api.local
            ? `sync ${sync}: stopped by the user; what run ${runId} committed stays and the next run goes on from there`
            : `sync ${sync}: stopped following run ${runId}; it goes on at ${api.target} (see: patchbay syncs show ${sync})`,
          130,
        );
      }
      // Ctrl-C ends the wait early: the run is read once more, then the loop stops.
      await sleep(POLL_MS, undefined, { signal: interrupted.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', interrupt);
    bar.stop();
  }
}

/** `--follow`: a run started in the process serving the API (this one when local), followed to its end. */
async function runAndFollow(api: AdminApi, id: string, full: boolean): Promise<number> {
  const before = await api.get<StatusView>(`/syncs/${seg(id)}`);
  const started = await api.post<{ runId: string; started: boolean; owner?: string }>(
    `/syncs/${seg(id)}/runs`,
    full ? { full: true } : {},
  );
  if (!started.started)
    process.stderr.write(
      `sync ${id}: a run is under way in ${started.owner ?? 'another process'}; following it\n`,
    );
  // Only a full read over a filled store has a total to measure against (the records stored); a first
  // read, or an incremental one (it reads what changed), shows a count of what it has seen.
  const bar =
    before.records > 0 && (full || before.fullPending)
      ? progressBar(`sync ${id}`)
      : progressCounter(`sync ${id}`, 'records seen');
  return report(await follow(api, id, started.runId, bar, before.records));
}

/**
 * A list sub-command: `--limit`, `--cursor` and `--json` as every list of the CLI has, the API read
 * page by page, a table or the API's JSON.
 */
interface ListSpec<T> {
  args: string[];
  description: string;
  limit: string;
  path: (args: string[]) => string;
  options?: (command: Command) => Command;
  query?: (o: Options) => AdminRequest['query'];
  columns: string[];
  row: (item: T) => string[];
}

function addList<T>(parent: Command, name: string, spec: ListSpec<T>): void {
  const command = parent.command(name).description(spec.description);
  for (const arg of spec.args) command.argument(arg);
  adminOptions(spec.options ? spec.options(command) : command)
    .option('--limit <n>', 'at most this many', spec.limit)
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON')
    .action(async (...given: unknown[]) => {
      const args = given.slice(0, spec.args.length) as string[];
      const o = given[spec.args.length] as Options & { limit: string; cursor?: string };
      const query = spec.query?.(o) ?? {};
      const limit = parseLimit(o.limit, 10_000);
      await withAdminApi(o, async (api) => {
        const page = await api.list<T>(spec.path(args), query, limit, o.cursor);
        if (o.json) return printJson(page);
        write(formatTable(spec.columns, page.data.map(spec.row)));
        printMore(page.nextCursor);
      });
    });
}

/** A sub-command that prints one object of the API as JSON. */
function addShow(
  parent: Command,
  name: string,
  description: string,
  args: string[],
  path: (a: string[]) => string,
) {
  const command = parent.command(name).description(description);
  for (const arg of args) command.argument(arg);
  adminOptions(command).action(async (...given: unknown[]) => {
    const o = given[args.length] as AdminOptions;
    await withAdminApi(o, async (api) =>
      printJson(await api.get(path(given.slice(0, args.length) as string[]))),
    );
  });
}

/** A sub-command of one sync that posts to the API and says what became of it. */
function addAction(
  parent: Command,
  name: string,
  description: string,
  act: (api: AdminApi, sync: string) => Promise<string>,
): void {
  adminOptions(parent.command(name).description(description).argument('<sync>')).action(
    async (sync: string, o: AdminOptions) => {
      await withAdminApi(o, async (api) => write(await act(api, sync)));
    },
  );
}

const syncPath = (a: string[]) => `/syncs/${seg(a[0]!)}`;

export function syncsCommand(): Command {
  const syncs = new Command('syncs').description(
    "Inspect and run syncs (the config file's syncs: and connector models): status, runs, records, quarantine, conflicts, held deletes, verify.",
  );

  adminOptions(
    syncs.command('list').description('List syncs with their state, records, last run and health.'),
  )
    .option('--json', 'print JSON')
    .action(async (o: AdminOptions & { json?: boolean }) => {
      await withAdminApi(o, async (api) => {
        const all = await api.get<{ data: StatusView[] }>('/syncs');
        if (o.json) return printJson(all);
        if (all.data.length === 0) return write('no syncs are defined (add syncs: to the config file)');
        write(
          formatTable(
            ['ID', 'MODEL', 'STATE', 'RECORDS', 'LAST RUN', 'NEXT RUN', 'HEALTH'],
            all.data.map((s) => [
              s.id,
              s.model,
              s.state,
              String(s.records),
              s.lastRun ? `${s.lastRun.status} ${ago(s.lastRun.finishedAt ?? s.lastRun.startedAt)}` : 'never',
              s.nextRunAt ? ago(s.nextRunAt) : s.state === 'paused' ? 'paused' : s.schedule,
              String(s.health.score),
            ]),
          ),
        );
      });
    });

  addShow(
    syncs,
    'show',
    'Show one sync: state, last and next run, records, lag, held deletes, health and why.',
    ['<id>'],
    syncPath,
  );

  adminOptions(
    syncs
      .command('run')
      .description(
        'Ask for a run; a running `patchbay start` or `worker` takes it. With --follow the process serving the API runs it now (this one, without --url), with a progress bar.',
      )
      .argument('<id>'),
  )
    .option('--full', 'a full resync (deletes what the source no longer has, after a complete read)')
    .option('--follow', 'run it now and show its progress until it ends')
    .action(async (id: string, o: AdminOptions & { full?: boolean; follow?: boolean }) => {
      await withAdminApi(o, async (api) => {
        if (o.follow) {
          process.exitCode = await runAndFollow(api, id, o.full === true);
          return;
        }
        const status = await api.post<StatusView>(`/syncs/${seg(id)}/run`, { full: o.full === true });
        write(
          `sync ${id}: ${o.full ? 'full' : 'incremental'} run requested; a running patchbay start or worker process takes it` +
            (status.state === 'running' ? ' after the run under way' : '') +
            ` (see: patchbay syncs show ${id})`,
        );
      });
    });

  for (const [name, description] of [
    ['pause', 'Pause a sync: no scheduled or requested run starts until it is resumed.'],
    ['resume', 'Resume a paused sync.'],
  ] as const) {
    addAction(syncs, name, description, async (api, id) => {
      const status = await api.post<StatusView>(`/syncs/${seg(id)}/${name}`);
      return `sync ${id}: ${status.state}`;
    });
  }

  addList<RunView>(syncs, 'runs', {
    args: ['<id>'],
    description: 'List the runs of a sync, newest first.',
    limit: '20',
    path: (a) => `${syncPath(a)}/runs`,
    columns: ['ID', 'STARTED', 'TRIGGER', 'RUN'],
    row: (r) => [r.id, ago(r.startedAt), r.trigger, runLine(r)],
  });

  addList<ReturnType<typeof recordView>>(syncs, 'records', {
    args: ['<id>'],
    description: 'List stored records in (updatedAt, id) order, as GET /api/v1/syncs/:id/records.',
    limit: '50',
    path: (a) => `${syncPath(a)}/records`,
    options: (c) =>
      c
        .option('--modified-after <time>', 'changed after (ISO date-time, epoch ms, or a duration ago: 2h)')
        .option('--include-deleted', 'include deleted records (tombstones)'),
    query: (o) => ({
      modifiedAfter: o.modifiedAfter as string | undefined,
      includeDeleted: o.includeDeleted === true,
    }),
    columns: ['ID', 'UPDATED', 'DELETED', 'DATA'],
    row: (r) => {
      const data = JSON.stringify(r.data);
      return [r.id, ago(r.updatedAt), ago(r.deletedAt), data.length > 80 ? `${data.slice(0, 79)}…` : data];
    },
  });

  syncs.addCommand(quarantineCommand());
  syncs.addCommand(conflictsCommand());
  syncs.addCommand(deletesCommand());

  adminOptions(
    syncs
      .command('verify')
      .description(
        'Compare the store with a full read of the source (counts and per-record hashes): missing, extra and different records. --repair fixes them.',
      )
      .argument('<id>'),
  )
    .option('--repair', 'store what is missing or different, delete what the source no longer has')
    .option('--json', 'print the report as JSON')
    .action(async (id: string, o: AdminOptions & { repair?: boolean; json?: boolean }) => {
      await withAdminApi(o, async (api) => {
        const local = (await api.get<StatusView>(`/syncs/${seg(id)}`)).records;
        const { runId } = await api.post<{ runId: string }>(`/syncs/${seg(id)}/verify`, {
          repair: o.repair === true,
        });
        const run = await follow(api, id, runId, progressBar(`verify ${id}`), local);
        if (run.status !== 'succeeded' || !run.report)
          throw new CliError(`verify run ${runId} ${run.status}: ${run.errorCode}: ${run.error}`);
        const result = run.report as VerifyReport;
        if (o.json) return printJson({ runId, ...result });
        write(`verify run ${runId}`);
        for (const line of verifyText(result)) write(line);
        const drift = result.missing.count + result.extra.count + result.different.count;
        // Drift left in place is a finding (exit 2), as `diff` does; repaired drift is not.
        if (drift > 0 && !result.repaired) process.exitCode = 2;
      });
    });

  return syncs;
}

function quarantineCommand(): Command {
  const quarantine = new Command('quarantine').description(
    'Records that failed the mapping or the schema: list, show, retry (after a mapping fix), discard.',
  );
  addList<ReturnType<typeof quarantineView>>(quarantine, 'list', {
    args: ['<sync>'],
    description: 'List quarantined records (open ones unless --status says otherwise).',
    limit: '50',
    path: (a) => `${syncPath(a)}/quarantine`,
    options: (c) =>
      c.option('--status <status>', `only this status (${QUARANTINE_STATUSES.join(', ')})`, 'open'),
    query: (o) => ({ status: oneOf(o.status as string, QUARANTINE_STATUSES, '--status') }),
    columns: ['ID', 'RECORD', 'PATH', 'ERROR'],
    row: (q) => [q.id, q.recordId ?? '', q.errorPath, q.error],
  });
  addShow(
    quarantine,
    'show',
    'Show a quarantined record with its error and raw data.',
    ['<sync>', '<entry>'],
    (a) => `${syncPath(a)}/quarantine/${seg(a[1]!)}`,
  );
  for (const action of ['retry', 'discard'] as const) {
    adminOptions(
      quarantine
        .command(action)
        .description(
          action === 'retry'
            ? 'Run entries through the (fixed) mapping and schema again; those that pass are stored.'
            : 'Drop entries: the records stay out of the store.',
        )
        .argument('<sync>')
        .argument('[entries...]', 'entry ids (qr_…)'),
    )
      .option('--all', 'every open entry')
      .action(async (sync: string, entries: string[], o: AdminOptions & { all?: boolean }) => {
        if (entries.length > 0 === (o.all === true))
          throw new CliError('give entry ids or --all, one of them');
        const which = o.all ? { all: true } : { ids: entries };
        await withAdminApi(o, async (api) => {
          const path = `/syncs/${seg(sync)}/quarantine/${action}`;
          if (action === 'discard') {
            const { discarded } = await api.post<{ discarded: string[] }>(path, which);
            return write(`discarded ${discarded.length}`);
          }
          const result = await api.post<RetryResult>(path, which);
          write(
            `stored ${result.stored.length}, still failing ${result.failing.length}, superseded ${result.superseded.length}`,
          );
          for (const f of result.failing) write(`  ${f.id}: ${f.errorPath}: ${f.error}`);
          if (result.failing.length > 0) process.exitCode = 1;
        });
      });
  }
  return quarantine;
}

function conflictsCommand(): Command {
  const conflicts = new Command('conflicts').description(
    'Conflicts the manual policy parked (both sides changed the same fields): list, show, resolve.',
  );
  addList<ReturnType<typeof conflictView>>(conflicts, 'list', {
    args: ['<sync>'],
    description: 'List open conflicts (resolved ones with --resolved).',
    limit: '50',
    path: (a) => `${syncPath(a)}/conflicts`,
    options: (c) => c.option('--resolved', 'resolved ones instead of open ones'),
    query: (o) => ({ status: o.resolved ? 'resolved' : 'open' }),
    columns: ['ID', 'RECORD', 'STATUS', 'CREATED'],
    row: (c) => [c.id, c.recordId, c.resolution ?? c.status, ago(c.createdAt)],
  });
  addShow(
    conflicts,
    'show',
    'Show a conflict: the local version, the source version and their common base.',
    ['<sync>', '<conflict>'],
    (a) => `${syncPath(a)}/conflicts/${seg(a[1]!)}`,
  );
  adminOptions(
    conflicts
      .command('resolve')
      .description(
        'Resolve a conflict: --take local (push it), --take source (drop the local change), or --data (a merged record).',
      )
      .argument('<sync>')
      .argument('<conflict>'),
  )
    .option('--take <side>', 'local or source')
    .option('--data <json>', 'the merged record, as JSON')
    .action(async (sync: string, conflict: string, o: AdminOptions & { take?: string; data?: string }) => {
      if ((o.take === undefined) === (o.data === undefined))
        throw new CliError('give --take local|source or --data <json>, one of them');
      let body: { resolution: string } | { data: object };
      if (o.data !== undefined) {
        let data: unknown;
        try {
          data = JSON.parse(o.data);
        } catch {
          throw new CliError('--data is not valid JSON');
        }
        if (typeof data !== 'object' || data === null || Array.isArray(data))
          throw new CliError('--data must be a JSON object (the merged record)');
        body = { data };
      } else {
        if (o.take !== 'local' && o.take !== 'source')
          throw new CliError(`--take must be local or source, got "${o.take}"`);
        body = { resolution: o.take };
      }
      await withAdminApi(o, async (api) => {
        const resolved = await api.post<ReturnType<typeof conflictView>>(
          `/syncs/${seg(sync)}/conflicts/${seg(conflict)}/resolve`,
          body,
        );
        write(`conflict ${resolved.id}: ${resolved.status} (${resolved.resolution})`);
      });
    });
  return conflicts;
}

function deletesCommand(): Command {
  const deletes = new Command('deletes').description(
    'Deletes the safety valve holds (a run that would delete more than the configured share): confirm or discard.',
  );
  for (const action of ['confirm', 'discard'] as const) {
    addAction(
      deletes,
      action,
      action === 'confirm'
        ? 'Let the held deletes go (the next run sweeps them).'
        : 'Drop the held deletes: the records stay.',
      async (api, sync) => {
        const count = (await api.get<StatusView>(`/syncs/${seg(sync)}`)).deletesHeld?.count ?? 0;
        await api.post(`/syncs/${seg(sync)}/deletes/${action}`);
        return action === 'confirm'
          ? `sync ${sync}: ${count} held deletes confirmed; the next run sweeps them`
          : `sync ${sync}: ${count} held deletes discarded; the records stay`;
      },
    );
  }
  return deletes;
}
