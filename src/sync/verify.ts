import { ErrorCode, errorMessage, isPatchbayError, PatchbayError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { SyncDefinition } from './define-sync.js';
import type { FetchContext, SyncContext } from './fetch-context.js';
import { busyError, withLease } from './leased-run.js';
import { appendEvents, type CommitScope, commitPage } from './page-commit.js';
import type { RunnerSettings, SyncPorts } from './ports.js';
import { preparePage } from './prepare-page.js';
import { runContext } from './sync-runner.js';

/** What `verify` found: counts, and the first ids of each kind of drift. */
export interface VerifyReport {
  /** Valid records the source listed. */
  sourceRecords: number;
  /** Live records stored locally before the verify. */
  localRecords: number;
  /** In the source, not (or deleted) locally. */
  missing: Drift;
  /** Stored locally, not in the source. */
  extra: Drift;
  /** In both, with different hashes. */
  different: Drift;
  /** Records of the source that fail the mapping or the schema (not compared; see the quarantine). */
  invalid: number;
  /** True when `repair` fixed what was found. */
  repaired: boolean;
}

export interface Drift {
  count: number;
  /** The first 100. */
  ids: string[];
}

export interface VerifyProgress {
  pages: number;
  read: number;
  missing: number;
  extra: number;
  different: number;
}

const SAMPLE = 100;

/**
 * Reconciliation: a full read of the source compared with the local store, record by record (by key
 * and hash), under the sync's lease so no run changes the store meanwhile. `repair` stores what is
 * missing or different (with change events, origin `repair`) and deletes what the source no longer
 * has. The keys the read saw are kept in the store, not in memory, so any size can be verified. The
 * report is the run's (mode `verify`) and is returned.
 */
export async function verifySync(
  ports: SyncPorts,
  settings: RunnerSettings,
  definition: SyncDefinition,
  options: {
    repair?: boolean;
    signal?: AbortSignal;
    onProgress?: (p: VerifyProgress) => void;
    /** Called once the run is recorded (its id is what the API answers with). */
    onStarted?: (runId: string) => void;
  } = {},
): Promise<{ runId: string; report: VerifyReport }> {
  const { stores, clock } = ports;
  const held = await withLease(ports, settings, definition, options.signal, async ({ lease, signal }) => {
    const startedAt = clock.now();
    const runId = newId('run', startedAt);
    await stores.database.transaction(async (tx) => {
      await stores.state.fence(tx, lease, startedAt, settings.leaseMs);
      await stores.runs.interruptStale(tx, definition.id, lease.token, startedAt);
      await stores.runs.start(tx, {
        id: runId,
        syncId: definition.id,
        mode: 'verify',
        trigger: 'manual',
        leaseToken: lease.token,
        startedAt,
      });
    });
    options.onStarted?.(runId);
    const state = await stores.state.require(definition.id);
    const scope: CommitScope = {
      ports,
      definition,
      lease,
      leaseMs: settings.leaseMs,
      runId,
      generation: state.generation,
      origin: 'repair',
      quarantineOpen: await stores.quarantine.hasOpen(definition.id),
      signal,
    };
    const report: VerifyReport = {
      sourceRecords: 0,
      localRecords: await stores.records.count(definition.id),
      missing: { count: 0, ids: [] },
      extra: { count: 0, ids: [] },
      different: { count: 0, ids: [] },
      invalid: 0,
      repaired: options.repair === true,
    };
    const progress: VerifyProgress = { pages: 0, read: 0, missing: 0, extra: 0, different: 0 };
    try {
      const http = definition.connection ? await ports.clients(definition.connection) : undefined;
      const base: SyncContext = runContext(ports, definition, http, signal);
      const ctx: FetchContext = Object.assign(Object.create(base) as SyncContext, {
        mode: 'full' as const,
        checkpoint: undefined,
        startedAt,
      });
      for await (const page of definition.fetch(ctx)) {
        signal.throwIfAborted();
        const prepared = preparePage(definition, page, clock.now());
        report.invalid += prepared.quarantined.length;
        report.sourceRecords += prepared.records.length;
        const stored = await stores.records.getMany(
          definition.id,
          prepared.records.map((r) => r.id),
        );
        const drifted = prepared.records.filter((r) => {
          const local = stored.get(r.id);
          if (!local || local.deletedAt !== null) return note(report.missing, r.id);
          if (local.hash !== r.hash) return note(report.different, r.id);
          return false;
        });
        await stores.verify.add(
          runId,
          prepared.records.map((r) => ({ id: r.id, hash: r.hash })),
        );
        if (options.repair && drifted.length > 0) {
          await commitPage(
            scope,
            { ...prepared, records: drifted, deleted: [], quarantined: [], hasCheckpoint: false },
            {},
          );
        }
        // The run's counters show progress to whoever polls it (the CLI's bar).
        if (!(options.repair && drifted.length > 0)) {
          await stores.runs.add(stores.database.autocommit, runId, { pages: 1, seen: prepared.seen });
        }
        progress.pages++;
        progress.read += prepared.seen;
        progress.missing = report.missing.count;
        progress.different = report.different.count;
        options.onProgress?.({ ...progress });
      }
      signal.throwIfAborted();
      let after: string | undefined;
      for (;;) {
        const extra = await stores.verify.extra(definition.id, runId, after, 1000);
        if (extra.length === 0) break;
        after = extra.at(-1);
        for (const id of extra) note(report.extra, id);
        if (options.repair) {
          await stores.database.transaction(async (tx) => {
            const now = clock.now();
            const stamp = await stores.state.fence(tx, lease, now, settings.leaseMs);
            const deleted = await stores.records.tombstone(tx, definition.id, extra, {
              stamp,
              now,
              generation: state.generation,
            });
            await appendEvents(tx, scope, deleted, now);
            await stores.runs.add(tx, runId, { deleted: deleted.length });
          });
        }
        progress.extra = report.extra.count;
        options.onProgress?.({ ...progress });
      }
      await stores.runs.finish(runId, { status: 'succeeded', now: clock.now(), report });
      return { runId, report };
    } catch (err) {
      const reason = signal.aborted ? signal.reason : err;
      const error = isPatchbayError(reason)
        ? reason
        : new PatchbayError(ErrorCode.INTERNAL, `verify of ${definition.id}: ${errorMessage(reason)}`);
      await stores.runs
        .finish(runId, {
          status: 'failed',
          now: clock.now(),
          errorCode: error.code,
          error: error.message,
          report,
        })
        .catch(() => {});
      throw error;
    } finally {
      await stores.verify.clear(runId).catch(() => {});
    }
  });
  if (!held) throw busyError(definition.id);
  return held.value;
}

function note(drift: Drift, id: string): true {
  drift.count++;
  if (drift.ids.length < SAMPLE) drift.ids.push(id);
  return true;
}
