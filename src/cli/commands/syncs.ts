import { Command } from 'commander';
import { decodeCursor, encodeCursor, parseSince } from '../../core/api/pagination.js';
import type { Engine } from '../../engine/index.js';
import type { QuarantineStatus } from '../../store/sync/index.js';
import type { ConflictChoice } from '../../sync/conflict-queue.js';
import { readRecordCursor, recordCursor } from '../../sync/record-cursor.js';
import type { RunOutcome } from '../../sync/sync-runner.js';
import { conflictView, quarantineView, recordView, runView, statusView } from '../../sync/sync-views.js';
import type { VerifyReport } from '../../sync/verify.js';
import { type GlobalOptions, withEngine } from '../lifecycle.js';
import { CliError } from '../output.js';
import { progressBar, progressCounter } from '../progress.js';
import { formatTable } from '../table.js';

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const write = (line: string) => process.stdout.write(`${line}\n`);

function parseLimit(value: string, max: number): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new CliError(`--limit must be an integer from 1 to ${max}, got "${value}"`);
  return limit;
}

const ago = (iso: string | null) => (iso === null ? '' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

/** One line of a run: its counts, as a person reads them. */
function runLine(run: ReturnType<typeof runView>): string {
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

/**
 * `--follow`: the run happens in this process, a progress bar on stderr as its pages commit (the total
 * is the store's record count, the best guess of what a read will see; a first read counts). When another process holds the
 * sync's lease, that run is followed instead by reading its counters as they commit.
 */
async function followRun(engine: Engine, id: string, full: boolean): Promise<number> {
  const before = await engine.syncs.status(id);
  // A first read has no total to measure against: a count of what it has seen.
  const bar: { update(done: number, total: number): void; stop(): void } =
    before.records > 0 ? progressBar(`sync ${id}`) : progressCounter(`sync ${id}`, 'records seen');
  const total = (seen: number) => Math.max(before.records, seen);
  const stop = new AbortController();
  // Ctrl-C stops the run; what it committed stays and the next run goes on from there.
  const interrupt = () => stop.abort(new CliError(`sync ${id}: stopped by the user`, 130));
  process.once('SIGINT', interrupt);
  let outcome: RunOutcome;
  try {
    outcome = await engine.syncs.runNow(id, {
      ...(full && { mode: 'full' }),
      signal: stop.signal,
      onProgress: (counts) => bar.update(counts.seen, total(counts.seen)),
    });
    if (outcome.status === 'busy') {
      const status = await engine.syncs.status(id);
      process.stderr.write(
        `sync ${id}: a run is under way in ${status.running?.owner ?? 'another process'}; following it\n`,
      );
      const runId = status.lastRun?.id;
      if (!runId) throw new CliError(`sync ${id}: the run under way has no record yet; try again`);
      for (;;) {
        const run = await engine.syncs.run(id, runId);
        bar.update(run.seen, total(run.seen));
        if (run.status !== 'running' || stop.signal.aborted) {
          bar.stop();
          return report(runView(run));
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    process.off('SIGINT', interrupt);
    bar.stop();
  }
  return report(runView(await engine.syncs.run(id, outcome.runId)));
}

function report(run: ReturnType<typeof runView>): number {
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

export function syncsCommand(): Command {
  const syncs = new Command('syncs').description(
    "Inspect and run syncs (the config file's syncs: and connector models): status, runs, records, quarantine, conflicts, held deletes, verify.",
  );

  syncs
    .command('list')
    .description('List syncs with their state, records, last run and health.')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(async (o: GlobalOptions & { json?: boolean }) => {
      await withEngine(o, async (engine) => {
        const all = (await engine.syncs.list()).map(statusView);
        if (o.json) return print({ data: all });
        if (all.length === 0) return write('no syncs are defined (add syncs: to the config file)');
        write(
          formatTable(
            ['ID', 'MODEL', 'STATE', 'RECORDS', 'LAST RUN', 'NEXT RUN', 'HEALTH'],
            all.map((s) => [
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

  syncs
    .command('show')
    .description('Show one sync: state, last and next run, records, lag, held deletes, health and why.')
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) => print(statusView(await engine.syncs.status(id))));
    });

  syncs
    .command('run')
    .description(
      'Ask for a run; a running `patchbay start` or `worker` takes it. With --follow the run happens here, with a progress bar.',
    )
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .option('--full', 'a full resync (deletes what the source no longer has, after a complete read)')
    .option('--follow', 'run it in this process and show its progress until it ends')
    .action(async (id: string, o: GlobalOptions & { full?: boolean; follow?: boolean }) => {
      await withEngine(o, async (engine) => {
        if (o.follow) {
          process.exitCode = await followRun(engine, id, o.full === true);
          return;
        }
        const status = await engine.syncs.request(id, { full: o.full === true });
        write(
          `sync ${id}: ${o.full ? 'full' : 'incremental'} run requested; a running patchbay start or worker process takes it` +
            (status.state === 'running' ? ' after the run under way' : '') +
            ' (see: patchbay syncs show ' +
            id +
            ')',
        );
      });
    });

  for (const [name, description] of [
    ['pause', 'Pause a sync: no scheduled or requested run starts until it is resumed.'],
    ['resume', 'Resume a paused sync.'],
  ] as const) {
    syncs
      .command(name)
      .description(description)
      .argument('<id>')
      .option('-c, --config <file>', 'config file')
      .action(async (id: string, o: GlobalOptions) => {
        await withEngine(o, async (engine) => {
          const status = await (name === 'pause' ? engine.syncs.pause(id) : engine.syncs.resume(id));
          write(`sync ${id}: ${status.state}`);
        });
      });
  }

  syncs
    .command('runs')
    .description('List the runs of a sync, newest first.')
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .option('--limit <n>', 'at most this many', '20')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions & { limit: string; cursor?: string; json?: boolean }) => {
      const limit = parseLimit(o.limit, 500);
      const before = decodeCursor(o.cursor);
      await withEngine(o, async (engine) => {
        const rows = await engine.syncs.runs(id, { limit: limit + 1, ...(before && { before }) });
        const page = rows.slice(0, limit).map(runView);
        const next = rows.length > limit ? encodeCursor(page.at(-1)!.id) : undefined;
        if (o.json) return print({ data: page, ...(next && { nextCursor: next }) });
        write(
          formatTable(
            ['ID', 'STARTED', 'TRIGGER', 'RUN'],
            page.map((r) => [r.id, ago(r.startedAt), r.trigger, runLine(r)]),
          ),
        );
        if (next) write(`(more: --cursor ${next})`);
      });
    });

  syncs
    .command('records')
    .description('List stored records in (updatedAt, id) order, as GET /api/v1/syncs/:id/records.')
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .option('--modified-after <time>', 'changed after (ISO date-time, epoch ms, or a duration ago: 2h)')
    .option('--include-deleted', 'include deleted records (tombstones)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON (the records themselves)')
    .action(
      async (
        id: string,
        o: GlobalOptions & {
          modifiedAfter?: string;
          includeDeleted?: boolean;
          limit: string;
          cursor?: string;
          json?: boolean;
        },
      ) => {
        const limit = parseLimit(o.limit, 1000);
        const after = readRecordCursor(o.cursor);
        const since = parseSince(o.modifiedAfter, Date.now());
        await withEngine(o, async (engine) => {
          const rows = await engine.syncs.records(id, {
            limit,
            includeDeleted: o.includeDeleted === true,
            ...(after && { after }),
            ...(since !== undefined && { modifiedAfter: since }),
          });
          const data = rows.slice(0, limit);
          const last = data.at(-1);
          const next = rows.length > limit && last ? recordCursor(last.updatedAt, last.id) : undefined;
          if (o.json) return print({ data: data.map(recordView), ...(next && { nextCursor: next }) });
          write(
            formatTable(
              ['ID', 'UPDATED', 'DELETED', 'DATA'],
              data.map((r) => [
                r.id,
                ago(new Date(r.updatedAt).toISOString()),
                r.deletedAt === null ? '' : ago(new Date(r.deletedAt).toISOString()),
                r.data.length > 80 ? `${r.data.slice(0, 79)}…` : r.data,
              ]),
            ),
          );
          if (next) write(`(more: --cursor ${next})`);
        });
      },
    );

  syncs.addCommand(quarantineCommand());
  syncs.addCommand(conflictsCommand());
  syncs.addCommand(deletesCommand());

  syncs
    .command('verify')
    .description(
      'Compare the store with a full read of the source (counts and per-record hashes): missing, extra and different records. --repair fixes them.',
    )
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .option('--repair', 'store what is missing or different, delete what the source no longer has')
    .option('--json', 'print the report as JSON')
    .action(async (id: string, o: GlobalOptions & { repair?: boolean; json?: boolean }) => {
      await withEngine(o, async (engine) => {
        const local = (await engine.syncs.status(id)).records;
        const bar = progressBar(`verify ${id}`);
        let result: Awaited<ReturnType<Engine['syncs']['verify']>>;
        try {
          result = await engine.syncs.verify(id, {
            repair: o.repair === true,
            onProgress: (p) => bar.update(p.read, Math.max(local, p.read)),
          });
        } finally {
          bar.stop();
        }
        const { runId, report } = result;
        if (o.json) return print({ runId, ...report });
        write(`verify run ${runId}`);
        for (const line of verifyText(report)) write(line);
        const drift = report.missing.count + report.extra.count + report.different.count;
        // Drift left in place is a finding (exit 2), as `diff` does; repaired drift is not.
        if (drift > 0 && !report.repaired) process.exitCode = 2;
      });
    });

  return syncs;
}

const QUARANTINE_STATUSES: readonly QuarantineStatus[] = ['open', 'resolved', 'discarded', 'superseded'];

function quarantineCommand(): Command {
  const quarantine = new Command('quarantine').description(
    'Records that failed the mapping or the schema: list, show, retry (after a mapping fix), discard.',
  );
  quarantine
    .command('list')
    .argument('<sync>')
    .option('-c, --config <file>', 'config file')
    .option('--status <status>', `only this status (${QUARANTINE_STATUSES.join(', ')})`, 'open')
    .option('--limit <n>', 'at most this many', '50')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON')
    .action(
      async (
        sync: string,
        o: GlobalOptions & { status: string; limit: string; cursor?: string; json?: boolean },
      ) => {
        if (!QUARANTINE_STATUSES.includes(o.status as QuarantineStatus))
          throw new CliError(`--status must be one of ${QUARANTINE_STATUSES.join(', ')}, got "${o.status}"`);
        const limit = parseLimit(o.limit, 500);
        const after = decodeCursor(o.cursor);
        await withEngine(o, async (engine) => {
          const rows = await engine.syncs.quarantine(sync, {
            status: o.status as QuarantineStatus,
            limit: limit + 1,
            ...(after && { after }),
          });
          const page = rows.slice(0, limit).map(quarantineView);
          const next = rows.length > limit ? encodeCursor(page.at(-1)!.id) : undefined;
          if (o.json) return print({ data: page, ...(next && { nextCursor: next }) });
          write(
            formatTable(
              ['ID', 'RECORD', 'PATH', 'ERROR'],
              page.map((q) => [q.id, q.recordId ?? '', q.errorPath, q.error]),
            ),
          );
          if (next) write(`(more: --cursor ${next})`);
        });
      },
    );
  quarantine
    .command('show')
    .argument('<sync>')
    .argument('<entry>')
    .option('-c, --config <file>', 'config file')
    .action(async (sync: string, entry: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) =>
        print(quarantineView(await engine.syncs.quarantined(sync, entry))),
      );
    });
  for (const action of ['retry', 'discard'] as const) {
    quarantine
      .command(action)
      .description(
        action === 'retry'
          ? 'Run entries through the (fixed) mapping and schema again; those that pass are stored.'
          : 'Drop entries: the records stay out of the store.',
      )
      .argument('<sync>')
      .argument('[entries...]', 'entry ids (qr_…)')
      .option('-c, --config <file>', 'config file')
      .option('--all', 'every open entry')
      .action(async (sync: string, entries: string[], o: GlobalOptions & { all?: boolean }) => {
        if (entries.length > 0 === (o.all === true))
          throw new CliError('give entry ids or --all, one of them');
        const which = o.all ? 'all' : entries;
        await withEngine(o, async (engine) => {
          if (action === 'discard') {
            const discarded = await engine.syncs.discardQuarantine(sync, which);
            return write(`discarded ${discarded.length}`);
          }
          const result = await engine.syncs.retryQuarantine(sync, which);
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
  conflicts
    .command('list')
    .argument('<sync>')
    .option('-c, --config <file>', 'config file')
    .option('--resolved', 'resolved ones instead of open ones')
    .option('--limit <n>', 'at most this many', '50')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON')
    .action(
      async (
        sync: string,
        o: GlobalOptions & { resolved?: boolean; limit: string; cursor?: string; json?: boolean },
      ) => {
        const limit = parseLimit(o.limit, 500);
        const after = decodeCursor(o.cursor);
        await withEngine(o, async (engine) => {
          const rows = await engine.syncs.conflicts(sync, {
            status: o.resolved ? 'resolved' : 'open',
            limit: limit + 1,
            ...(after && { after }),
          });
          const page = rows.slice(0, limit).map(conflictView);
          const next = rows.length > limit ? encodeCursor(page.at(-1)!.id) : undefined;
          if (o.json) return print({ data: page, ...(next && { nextCursor: next }) });
          write(
            formatTable(
              ['ID', 'RECORD', 'STATUS', 'CREATED'],
              page.map((c) => [c.id, c.recordId, c.resolution ?? c.status, ago(c.createdAt)]),
            ),
          );
          if (next) write(`(more: --cursor ${next})`);
        });
      },
    );
  conflicts
    .command('show')
    .description('Show a conflict: the local version, the source version and their common base.')
    .argument('<sync>')
    .argument('<conflict>')
    .option('-c, --config <file>', 'config file')
    .action(async (sync: string, conflict: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) => print(conflictView(await engine.syncs.conflict(sync, conflict))));
    });
  conflicts
    .command('resolve')
    .description(
      'Resolve a conflict: --take local (push it), --take source (drop the local change), or --data (a merged record).',
    )
    .argument('<sync>')
    .argument('<conflict>')
    .option('-c, --config <file>', 'config file')
    .option('--take <side>', 'local or source')
    .option('--data <json>', 'the merged record, as JSON')
    .action(async (sync: string, conflict: string, o: GlobalOptions & { take?: string; data?: string }) => {
      if ((o.take === undefined) === (o.data === undefined))
        throw new CliError('give --take local|source or --data <json>, one of them');
      let choice: ConflictChoice;
      if (o.data !== undefined) {
        let data: unknown;
        try {
          data = JSON.parse(o.data);
        } catch {
          throw new CliError('--data is not valid JSON');
        }
        if (typeof data !== 'object' || data === null || Array.isArray(data))
          throw new CliError('--data must be a JSON object (the merged record)');
        choice = { data: data as Record<string, never> };
      } else {
        if (o.take !== 'local' && o.take !== 'source')
          throw new CliError(`--take must be local or source, got "${o.take}"`);
        choice = o.take;
      }
      await withEngine(o, async (engine) => {
        const resolved = conflictView(await engine.syncs.resolveConflict(sync, conflict, choice));
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
    deletes
      .command(action)
      .description(
        action === 'confirm'
          ? 'Let the held deletes go (the next run sweeps them).'
          : 'Drop the held deletes: the records stay.',
      )
      .argument('<sync>')
      .option('-c, --config <file>', 'config file')
      .action(async (sync: string, o: GlobalOptions) => {
        await withEngine(o, async (engine) => {
          const before = await engine.syncs.status(sync);
          const count = before.deletesHeld?.count ?? 0;
          await (action === 'confirm'
            ? engine.syncs.confirmDeletes(sync)
            : engine.syncs.discardDeletes(sync));
          write(
            action === 'confirm'
              ? `sync ${sync}: ${count} held deletes confirmed; the next run sweeps them`
              : `sync ${sync}: ${count} held deletes discarded; the records stay`,
          );
        });
      });
  }
  return deletes;
}
