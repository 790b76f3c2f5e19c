import { ErrorCode, PatchbayError } from '../core/errors.js';
import type {
  QuarantinedRecord,
  QuarantineStatus,
  RecordQuery,
  StoredRecord,
  SyncChange,
  SyncChangeStatus,
  SyncConflict,
  SyncRun,
  SyncState,
} from '../store/sync/index.js';
import { type ConflictChoice, settleConflict } from './conflict-queue.js';
import type { SyncDefinition } from './define-sync.js';
import { type Health, healthOf } from './health.js';
import { type LocalWrite, type WriteResult, writeLocal } from './local-writes.js';
import type { SyncMode } from './page.js';
import { DEFAULT_RUNNER_SETTINGS, type RunnerSettings, type SyncPorts } from './ports.js';
import { discardQuarantined, type RetryResult, retryQuarantined } from './quarantine-retry.js';
import { describeSchedule, scheduleGap } from './schedule.js';
import type { SyncGaugeSample } from './sync-metrics.js';
import { type RunOutcome, type RunRequest, SyncRunner } from './sync-runner.js';
import { type SchedulerOptions, SyncScheduler } from './sync-scheduler.js';
import { type VerifyProgress, type VerifyReport, verifySync } from './verify.js';

/** A sync as the API and the CLI show it. */
export interface SyncStatus {
  id: string;
  model: string;
  connection: string | undefined;
  schedule: string;
  /** `running` while a run holds the lease (in any process), `paused`, else `idle`. */
  state: 'idle' | 'running' | 'paused';
  running: { owner: string; until: number } | null;
  records: number;
  lastRun: SyncRun | undefined;
  lastSuccessAt: number | undefined;
  nextRunAt: number | null;
  /** A full read asked for or under way (it resumes until complete). */
  fullPending: boolean;
  requested: SyncState['requested'];
  deletesHeld: SyncState['held'];
  quarantineOpen: number;
  conflictsOpen: number;
  pendingChanges: number;
  failedChanges: number;
  /** Seconds since the last successful run finished. */
  lagSeconds: number | undefined;
  health: Health;
}

export interface SyncServiceOptions {
  ports: SyncPorts;
  /** Who this process is in leases (host/pid/instance). */
  owner: string;
  runner?: Partial<Omit<RunnerSettings, 'owner'>>;
  scheduler?: SchedulerOptions;
}

/**
 * The sync module's service: the syncs this process knows (from config, connectors' models and code),
 * their status, and everything done to them — runs by hand, pause and resume, records, local writes,
 * quarantine, conflicts, held deletes, verify. Scheduled and requested runs are the scheduler's.
 */
export class SyncService {
  private readonly definitionsById = new Map<string, SyncDefinition>();
  private readonly runner: SyncRunner;
  private readonly scheduler: SyncScheduler;
  private readonly settings: RunnerSettings;
  private started = false;
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly options: SyncServiceOptions) {
    const { ports } = options;
    this.settings = { ...DEFAULT_RUNNER_SETTINGS, ...options.runner, owner: options.owner };
    this.runner = new SyncRunner(ports, this.settings);
    this.scheduler = new SyncScheduler(
      {
        state: ports.stores.state,
        definitions: () => this.definitions(),
        run: (definition, request) => this.runner.run(definition, request),
        clock: ports.clock,
        logger: ports.logger,
      },
      options.scheduler,
    );
  }

  private get ports(): SyncPorts {
    return this.options.ports;
  }

  /** Adds (or replaces) a sync. Its state row is created at `start()` or at once when started. */
  async define(definition: SyncDefinition): Promise<void> {
    this.definitionsById.set(definition.id, definition);
    if (this.started) await this.ensureState([definition.id]);
  }

  definitions(): SyncDefinition[] {
    return [...this.definitionsById.values()];
  }

  definition(id: string): SyncDefinition {
    const definition = this.definitionsById.get(id);
    if (!definition) {
      const known = [...this.definitionsById.keys()];
      throw new PatchbayError(
        ErrorCode.NOT_FOUND,
        `no sync ${id}${known.length > 0 ? ` (syncs: ${known.join(', ')})` : ' (none is defined)'}`,
      );
    }
    return definition;
  }

  /** Creates missing state rows; with `schedule`, starts this process's scheduler. */
  async start(options: { schedule?: boolean } = {}): Promise<void> {
    await this.ensureState([...this.definitionsById.keys()]);
    this.started = true;
    if (options.schedule !== false) this.scheduler.start();
  }

  /** Stops the scheduler and the runs in flight (their committed pages stay). */
  async stop(): Promise<void> {
    await this.scheduler.close();
    await Promise.allSettled(this.background);
  }

  async list(): Promise<SyncStatus[]> {
    return Promise.all(this.definitions().map((d) => this.status(d.id)));
  }

  async status(id: string): Promise<SyncStatus> {
    const definition = this.definition(id);
    const { stores, clock } = this.ports;
    const state = await stores.state.require(id);
    const runs = (await stores.runs.list(id, { limit: 20 })).filter((r) => r.mode !== 'verify');
    const lastSuccess = runs.find((r) => r.status === 'succeeded');
    const now = clock.now();
    const [records, quarantineOpen, conflictsOpen, pendingChanges, failedChanges] = await Promise.all([
      stores.records.count(id),
      stores.quarantine.countOpen(id),
      stores.conflicts.countOpen(id),
      stores.changes.count(id, 'pending'),
      stores.changes.count(id, 'failed'),
    ]);
    const running = state.lease && state.lease.until >= now ? state.lease : null;
    const lastSuccessAt = lastSuccess?.finishedAt ?? undefined;
    return {
      id,
      model: definition.model,
      connection: definition.connection,
      schedule: describeSchedule(definition.schedule),
      state: running ? 'running' : state.paused ? 'paused' : 'idle',
      running: running && { owner: running.owner, until: running.until },
      records,
      lastRun: runs[0],
      lastSuccessAt,
      nextRunAt: state.paused ? null : state.nextRunAt,
      fullPending: state.fullPending,
      requested: state.requested,
      deletesHeld: state.held,
      quarantineOpen,
      conflictsOpen,
      pendingChanges,
      failedChanges,
      lagSeconds: lastSuccessAt === undefined ? undefined : Math.max(0, (now - lastSuccessAt) / 1000),
      health: healthOf({
        runs,
        now,
        expectedGapMs: scheduleGap(definition.schedule, now),
        lastSuccessAt,
        deletesHeld: state.held?.count ?? 0,
        quarantineOpen,
        conflictsOpen,
        pushesFailed: failedChanges,
      }),
    };
  }

  /** The figures of every sync, for the Prometheus gauges. */
  async samples(): Promise<SyncGaugeSample[]> {
    return (await this.list()).map((s) => ({
      syncId: s.id,
      records: s.records,
      health: s.health.score,
      lagSeconds: s.lagSeconds,
      nextRunAt: s.nextRunAt,
      deletesHeld: s.deletesHeld?.count ?? 0,
      quarantineOpen: s.quarantineOpen,
      conflictsOpen: s.conflictsOpen,
      running: s.state === 'running',
    }));
  }

  /**
   * Asks for a run (`full` for a full resync): the first scheduler to look — this process's at once —
   * runs it. A run already under way is followed by the one asked for.
   */
  async request(
    id: string,
    options: { full?: boolean; trigger?: 'manual' | 'event'; at?: number } = {},
  ): Promise<SyncStatus> {
    this.definition(id);
    const { stores, clock } = this.ports;
    const state = await stores.state.require(id);
    if (state.paused) throw new PatchbayError(ErrorCode.CONFLICT, `sync ${id} is paused; resume it first`);
    const mode: SyncMode = options.full ? 'full' : 'incremental';
    await stores.state.request(id, mode, options.trigger ?? 'manual', options.at ?? clock.now());
    this.scheduler.nudge();
    return this.status(id);
  }

  /** Runs a sync now in this process and waits for the end (`busy` when another run holds the lease). */
  async runNow(
    id: string,
    request: Omit<RunRequest, 'trigger'> & { trigger?: RunRequest['trigger'] } = {},
  ): Promise<RunOutcome> {
    const definition = this.definition(id);
    const state = await this.ports.stores.state.require(id);
    if (state.paused) throw new PatchbayError(ErrorCode.CONFLICT, `sync ${id} is paused; resume it first`);
    return this.runner.run(definition, {
      ...request,
      trigger: request.trigger ?? 'manual',
      signal: request.signal ?? this.scheduler.signal,
    });
  }

  async pause(id: string): Promise<SyncStatus> {
    this.definition(id);
    await this.ports.stores.state.setPaused(id, true, this.ports.clock.now());
    return this.status(id);
  }

  async resume(id: string): Promise<SyncStatus> {
    this.definition(id);
    await this.ports.stores.state.setPaused(id, false, this.ports.clock.now());
    this.scheduler.nudge();
    return this.status(id);
  }

  async runs(id: string, options: { before?: string; limit: number }): Promise<SyncRun[]> {
    this.definition(id);
    return this.ports.stores.runs.list(id, options);
  }

  async run(id: string, runId: string): Promise<SyncRun> {
    this.definition(id);
    const run = await this.ports.stores.runs.get(runId);
    if (!run || run.syncId !== id)
      throw new PatchbayError(ErrorCode.NOT_FOUND, `sync ${id} has no run ${runId}`);
    return run;
  }

  async records(id: string, query: RecordQuery): Promise<StoredRecord[]> {
    this.definition(id);
    return this.ports.stores.records.list(id, query);
  }

  async record(id: string, externalId: string): Promise<StoredRecord> {
    this.definition(id);
    const record = await this.ports.stores.records.get(id, externalId);
    if (!record) throw new PatchbayError(ErrorCode.NOT_FOUND, `sync ${id} has no record ${externalId}`);
    return record;
  }

  /** Local changes for the push (`engine.syncs.write`); see `writeLocal`. */
  async write(
    id: string,
    writes: readonly LocalWrite[],
    options: { idempotencyKey?: string } = {},
  ): Promise<WriteResult> {
    const result = await writeLocal(this.ports, this.definition(id), writes, options);
    if (result.accepted.length > 0) this.scheduler.nudge();
    return result;
  }

  async changes(
    id: string,
    options: { status?: SyncChangeStatus; after?: string; limit: number },
  ): Promise<SyncChange[]> {
    this.definition(id);
    return this.ports.stores.changes.list(id, options);
  }

  async quarantine(
    id: string,
    options: { status?: QuarantineStatus; after?: string; limit: number },
  ): Promise<QuarantinedRecord[]> {
    this.definition(id);
    return this.ports.stores.quarantine.list(id, options);
  }

  async quarantined(id: string, entryId: string): Promise<QuarantinedRecord> {
    this.definition(id);
    const entry = await this.ports.stores.quarantine.get(id, entryId);
    if (!entry)
      throw new PatchbayError(ErrorCode.NOT_FOUND, `sync ${id} has no quarantined record ${entryId}`);
    return entry;
  }

  async retryQuarantine(id: string, entryIds: readonly string[] | 'all'): Promise<RetryResult> {
    return retryQuarantined(this.ports, this.settings, this.definition(id), entryIds);
  }

  async discardQuarantine(id: string, entryIds: readonly string[] | 'all'): Promise<string[]> {
    this.definition(id);
    return discardQuarantined(this.ports, id, entryIds);
  }

  async conflicts(
    id: string,
    options: { status?: 'open' | 'resolved'; after?: string; limit: number },
  ): Promise<SyncConflict[]> {
    this.definition(id);
    return this.ports.stores.conflicts.list(id, options);
  }

  async conflict(id: string, conflictId: string): Promise<SyncConflict> {
    this.definition(id);
    const conflict = await this.ports.stores.conflicts.get(id, conflictId);
    if (!conflict) throw new PatchbayError(ErrorCode.NOT_FOUND, `sync ${id} has no conflict ${conflictId}`);
    return conflict;
  }

  async resolveConflict(id: string, conflictId: string, choice: ConflictChoice): Promise<SyncConflict> {
    const conflict = await settleConflict(this.ports, this.definition(id), conflictId, choice);
    this.scheduler.nudge();
    return conflict;
  }

  /** Lets the deletes the safety valve holds go (the next run sweeps them). */
  async confirmDeletes(id: string): Promise<SyncStatus> {
    const held = await this.heldOf(id);
    if (!(await this.ports.stores.state.confirmHeld(id, held.generation, this.ports.clock.now()))) {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `the held deletes of sync ${id} changed meanwhile; look again`,
      );
    }
    this.scheduler.nudge();
    return this.status(id);
  }

  /** Drops the held deletes: the records stay. */
  async discardDeletes(id: string): Promise<SyncStatus> {
    const held = await this.heldOf(id);
    if (!(await this.ports.stores.state.discardHeld(id, held.generation, this.ports.clock.now()))) {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `the held deletes of sync ${id} changed meanwhile; look again`,
      );
    }
    return this.status(id);
  }

  async verify(
    id: string,
    options: { repair?: boolean; signal?: AbortSignal; onProgress?: (p: VerifyProgress) => void } = {},
  ): Promise<{ runId: string; report: VerifyReport }> {
    return verifySync(this.ports, this.settings, this.definition(id), {
      ...options,
      signal: options.signal ?? this.scheduler.signal,
    });
  }

  /**
   * Starts a verify in the background of this process and answers once its run is recorded (poll the
   * run for progress and, at the end, its report). `CONFLICT` when a run holds the lease.
   */
  async startVerify(id: string, options: { repair?: boolean } = {}): Promise<{ runId: string }> {
    const definition = this.definition(id);
    const runId = await this.inBackground(id, 'verify', (onStarted) =>
      verifySync(this.ports, this.settings, definition, {
        ...options,
        signal: this.scheduler.signal,
        onStarted,
      }),
    );
    if (runId === undefined)
      throw new PatchbayError(ErrorCode.INTERNAL, `sync ${id}: verify ended unrecorded`);
    return { runId };
  }

  /**
   * Starts a run in the background of this process and answers once it is recorded (poll the run for
   * its counts and its end). When another process's run holds the lease, answers that run instead
   * (`started: false`), so a client follows whichever run is under way.
   */
  async startRun(
    id: string,
    options: { full?: boolean } = {},
  ): Promise<{ runId: string; started: boolean; owner?: string }> {
    const definition = this.definition(id);
    const state = await this.ports.stores.state.require(id);
    if (state.paused) throw new PatchbayError(ErrorCode.CONFLICT, `sync ${id} is paused; resume it first`);
    const runId = await this.inBackground(id, 'run', (onStarted) =>
      this.runner.run(definition, {
        ...(options.full && { mode: 'full' }),
        trigger: 'manual',
        signal: this.scheduler.signal,
        onStarted,
      }),
    );
    if (runId !== undefined) return { runId, started: true };
    const status = await this.status(id);
    const under = status.lastRun?.status === 'running' ? status.lastRun : undefined;
    if (!under) {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `sync ${id}: a run is under way in ${status.running?.owner ?? 'another process'} and not recorded yet; try again`,
      );
    }
    return { runId: under.id, started: false, ...(status.running && { owner: status.running.owner }) };
  }

  /**
   * Runs `work` in the background of this process (`stop` waits for it); answers the run id it reports
   * through `onStarted`, or undefined when it ends without starting one (the lease was taken). A failure
   * before the start is the caller's; after it, the run records it and the log says it.
   */
  private inBackground(
    id: string,
    what: string,
    work: (onStarted: (runId: string) => void) => Promise<unknown>,
  ): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      let started = false;
      const job = work((runId) => {
        started = true;
        resolve(runId);
      }).then(
        () => resolve(undefined),
        (err) => {
          if (!started) reject(err);
          else
            this.ports.logger.warn({ sync: id, err: (err as Error).message }, `sync ${id}: ${what} failed`);
        },
      );
      this.background.add(job);
      void job.finally(() => this.background.delete(job));
    });
  }

  /**
   * Creates missing state rows. A scheduled sync's first run is at once (its initial read); a manual
   * one waits to be asked.
   */
  private async ensureState(ids: readonly string[]): Promise<void> {
    const now = this.ports.clock.now();
    await this.ports.stores.state.ensure(ids, now, (id) =>
      this.definition(id).schedule.kind === 'manual' ? null : now,
    );
  }

  private async heldOf(id: string): Promise<NonNullable<SyncState['held']>> {
    this.definition(id);
    const state = await this.ports.stores.state.require(id);
    if (!state.held) throw new PatchbayError(ErrorCode.CONFLICT, `sync ${id} holds no deletes`);
    return state.held;
  }
}
