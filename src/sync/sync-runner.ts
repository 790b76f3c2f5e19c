import { context, type Span, SpanStatusCode } from '@opentelemetry/api';
import { ErrorCode, errorMessage, isPatchbayError, PatchbayError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { LOOP_BLOCK_MS } from '../core/loop-block.js';
import { inSpan, tracingOn } from '../core/tracing.js';
import type { HttpClient } from '../http/create-http-client.js';
import {
  type Lease,
  NO_COUNTS,
  type RunCounts,
  type RunStatus,
  type SyncState,
} from '../store/sync/index.js';
import { isCursorExpired } from './cursor-expired.js';
import type { SyncDefinition } from './define-sync.js';
import { endFullRead, sweepDeletes } from './deletes.js';
import type { FetchContext, SyncContext } from './fetch-context.js';
import { checkIntegrity } from './integrity.js';
import { type LeaseScope, withLease } from './leased-run.js';
import type { SyncMode } from './page.js';
import { type CommitScope, commitPage } from './page-commit.js';
import { DEFAULT_RUNNER_SETTINGS, type RunnerSettings, type SyncPorts } from './ports.js';
import { type PreparedPage, preparePage } from './prepare-page.js';
import { pushPending } from './push-runner.js';
import { readAhead } from './read-ahead.js';
import { nextRunTime } from './schedule.js';
import { describeThrottle, type ThrottledPage, throttledPage, throttleWaitMs } from './throttled-page.js';

export type RunTrigger = 'schedule' | 'manual' | 'event' | 'resume' | 'write' | 'confirm';

export interface RunRequest {
  /** `full` forces a full read; otherwise a pending full read resumes, else an incremental one. */
  mode?: SyncMode;
  trigger: RunTrigger;
  /** Stops the run (engine shutdown); its committed progress stays. */
  signal?: AbortSignal;
  /** Called after every commit with the run's counts so far. */
  onProgress?: (counts: RunCounts) => void;
  /** Called once the run is recorded (whoever polls it can follow it from then on). */
  onStarted?: (runId: string) => void;
}

export type RunOutcome =
  | { status: 'busy' }
  | { status: RunStatus; runId: string; mode: SyncMode; counts: RunCounts; error?: PatchbayError };

/**
 * One run of one sync, start to end, under the sync's lease:
 * 1. the lease is taken (or the run is `busy`); runs a dead runner left `running` become `interrupted`;
 * 2. a sweep a previous run did not finish is finished;
 * 3. the read: a pending full read resumes from its checkpoint, else an incremental read from the last
 *    committed checkpoint; each page commits with its checkpoint (`commitPage`); an expired cursor
 *    restarts from the model's watermark or with a full read; a complete full read sweeps or holds;
 * 4. local changes are pushed (bidirectional syncs);
 * 5. a model with an integrity check compares both sides (the report is the run's);
 * 6. the run is recorded and the next one scheduled.
 * The run stops at its time limit, when its lease is lost, or when `signal` aborts; committed pages stay.
 */
export class SyncRunner {
  constructor(
    private readonly ports: SyncPorts,
    private readonly settings: RunnerSettings,
  ) {}

  async run(definition: SyncDefinition, request: RunRequest): Promise<RunOutcome> {
    if (!tracingOn()) return this.runOnce(definition, request);
    // Its pages and the HTTP calls its fetch makes are children of this span (the active context).
    return inSpan('sync.run', context.active(), { 'patchbay.sync': definition.id }, async (span) => {
      const outcome = await this.runOnce(definition, request);
      describeRun(span, outcome);
      return outcome;
    });
  }

  private async runOnce(definition: SyncDefinition, request: RunRequest): Promise<RunOutcome> {
    const startedAt = this.ports.clock.now();
    const held = await withLease(this.ports, this.settings, definition, request.signal, (scope) =>
      this.runLeased(definition, request, scope, startedAt),
    );
    return held ? held.value : { status: 'busy' };
  }

  private async runLeased(
    definition: SyncDefinition,
    request: RunRequest,
    { lease, signal, timedOut }: LeaseScope,
    startedAt: number,
  ): Promise<RunOutcome> {
    const { stores } = this.ports;
    const counts: RunCounts = { ...NO_COUNTS };
    // Called with what each commit committed: the run's counts and the counters move together.
    const add = (more: Partial<RunCounts>) => {
      for (const [key, value] of Object.entries(more) as [keyof RunCounts, number | undefined][]) {
        counts[key] += value ?? 0;
      }
      this.ports.metrics?.committed(definition.id, more);
      request.onProgress?.({ ...counts });
    };
    let runId: string | undefined;
    let mode: SyncMode = 'incremental';
    try {
      const state = await stores.state.require(definition.id);
      mode =
        request.mode === 'full' ||
        state.fullPending ||
        state.requested?.mode === 'full' ||
        !definition.incremental
          ? 'full'
          : 'incremental';
      runId = newId('run', startedAt);
      const trigger = await this.begin(lease, state, runId, mode, request.trigger, startedAt);
      this.ports.logger.info(
        { sync: definition.id, run: runId, mode, trigger },
        `sync ${definition.id}: run started`,
      );
      request.onStarted?.(runId);
      const http = definition.connection ? await this.ports.clients(definition.connection) : undefined;
      const current = await stores.state.require(definition.id);
      const scope: CommitScope = {
        ports: this.ports,
        definition,
        lease,
        leaseMs: this.settings.leaseMs,
        runId,
        generation: current.generation,
        origin: 'source',
        quarantineOpen: await stores.quarantine.hasOpen(definition.id),
        signal,
      };
      const base = runContext(this.ports, definition, http, signal);
      if (current.sweepGeneration !== null) {
        await sweepDeletes(scope, current.sweepGeneration, add, this.settings.sweepBatch);
      }
      const notes = await this.read(scope, base, mode, startedAt, add);
      if (definition.push) await pushPending(scope, base, add);
      const integrity = await checkIntegrity(this.ports, definition, base);
      const report = integrity ? { ...notes, integrity } : notes;
      await this.finish(definition, runId, 'succeeded', startedAt, report);
      this.observe(definition, mode, 'succeeded', startedAt);
      return { status: 'succeeded', runId, mode, counts };
    } catch (err) {
      const reason = signal.aborted ? signal.reason : err;
      const error = isPatchbayError(reason)
        ? reason
        : new PatchbayError(ErrorCode.INTERNAL, `sync ${definition.id}: ${errorMessage(reason)}`, {
            cause: reason,
          });
      const status: RunStatus = timedOut()
        ? 'timed_out'
        : error.code === ErrorCode.LEASE_LOST
          ? 'interrupted'
          : 'failed';
      if (runId) {
        await this.finish(definition, runId, status, startedAt, undefined, error).catch((finishErr) =>
          this.ports.logger.warn(
            { sync: definition.id, err: errorMessage(finishErr) },
            `sync ${definition.id}: recording the end of run ${runId} failed`,
          ),
        );
        this.observe(definition, mode, status, startedAt);
      }
      const log = status === 'failed' ? 'error' : 'warn';
      this.ports.logger[log](
        { sync: definition.id, run: runId, status, code: error.code, err: error.message },
        `sync ${definition.id}: run ${status}: ${error.message}`,
      );
      return { status, runId: runId ?? '', mode, counts, error };
    }
  }

  /** The run's first commit: stale runs interrupted, the request cleared, a full read begun if asked. */
  private async begin(
    lease: Lease,
    state: SyncState,
    runId: string,
    mode: SyncMode,
    requested: RunTrigger,
    now: number,
  ): Promise<RunTrigger> {
    const { stores } = this.ports;
    return stores.database.transaction(async (tx) => {
      await stores.state.fence(tx, lease, now, this.settings.leaseMs);
      const interrupted = await stores.runs.interruptStale(tx, state.id, lease.token, now);
      const trigger = interrupted > 0 && requested === 'schedule' ? 'resume' : requested;
      await stores.runs.start(tx, {
        id: runId,
        syncId: state.id,
        mode,
        trigger,
        leaseToken: lease.token,
        startedAt: now,
      });
      await stores.state.beginRun(tx, state.id, runId, mode === 'full' && !state.fullPending, now);
      return trigger;
    });
  }

  /** The read, with restarts after an expired cursor. Returns notes for the run's report. */
  private async read(
    scope: CommitScope,
    base: SyncContext,
    initialMode: SyncMode,
    runStartedAt: number,
    add: (counts: Partial<RunCounts>) => void,
  ): Promise<Record<string, unknown> | undefined> {
    const { stores, clock } = this.ports;
    const { definition } = scope;
    let mode = initialMode;
    let restarts = 0;
    let waitsInARow = 0;
    // Whether every page of this full read said it listed everything; kept across throttle waits.
    let complete = true;
    const notes: Record<string, unknown> = {};
    for (;;) {
      const state = await stores.state.require(definition.id);
      scope.generation = state.generation;
      // On top of the base context, whose `http` is a getter (it throws for a sync without a connection).
      const ctx: FetchContext = Object.assign(Object.create(base) as SyncContext, {
        mode,
        checkpoint: (mode === 'full' ? state.fullCheckpoint : state.checkpoint) as FetchContext['checkpoint'],
        startedAt: mode === 'full' ? (state.fullStartedAt ?? runStartedAt) : runStartedAt,
      });
      try {
        for await (const page of readAhead(definition.fetch(ctx))) {
          base.signal.throwIfAborted();
          const prepared = preparePage(definition, page, clock.now());
          if (prepared.transformMs > LOOP_BLOCK_MS)
            this.ports.onLoopBlock?.(`transform:${definition.id}`, prepared.transformMs);
          const progress = prepared.hasCheckpoint
            ? mode === 'full'
              ? { fullCheckpoint: prepared.checkpoint }
              : { checkpoint: prepared.checkpoint }
            : {};
          add(
            tracingOn()
              ? await inSpan('sync.page', context.active(), pageAttributes(scope, prepared), () =>
                  commitPage(scope, prepared, progress),
                )
              : await commitPage(scope, prepared, progress),
          );
          waitsInARow = 0;
          if (!prepared.complete) complete = false;
        }
        base.signal.throwIfAborted();
        if (mode === 'full') {
          const end = await endFullRead(scope, complete, add);
          if (!end.complete)
            notes.fullRead =
              'incomplete: a page said the source could not list everything; nothing was deleted';
          if (end.held > 0) notes.deletesHeld = end.held;
        }
        if (restarts > 0) notes.cursorRestarts = restarts;
        return Object.keys(notes).length > 0 ? notes : undefined;
      } catch (err) {
        if (base.signal.aborted) throw base.signal.reason;
        const throttle = throttledPage(err);
        if (throttle) {
          // The page is asked for again from the last committed checkpoint once the wait is over.
          await this.waitOutThrottle(
            scope,
            base.signal,
            throttle,
            waitsInARow++,
            notes,
            err as PatchbayError,
          );
          continue;
        }
        if (!isCursorExpired(err)) throw err;
        if (restarts >= this.settings.maxCursorRestarts) {
          throw new PatchbayError(
            ErrorCode.CURSOR_EXPIRED,
            `sync ${definition.id}: the cursor expired ${restarts + 1} times in one run; giving up (${err.message})`,
            { cause: err },
          );
        }
        restarts++;
        await this.restart(scope, mode, err.restartFrom);
        this.ports.logger.warn(
          { sync: definition.id, mode, restartFrom: err.restartFrom !== undefined },
          `sync ${definition.id}: ${err.message}; restarting ${mode === 'incremental' && err.restartFrom !== undefined ? 'from the last watermark' : 'with a full read'}`,
        );
        if (!(mode === 'incremental' && err.restartFrom !== undefined)) mode = 'full';
        complete = true;
      }
    }
  }

  /**
   * A page the source throttled after the HTTP client's own attempts: the run waits as asked (saying why
   * in its report, the log and `patchbay_sync_throttle_waits_total`) and then reads on from its last
   * committed checkpoint. Bounded: `maxThrottleWaits` in a row without a commit, or a single wait longer
   * than `maxThrottleWaitMs`, fails the run (the next one resumes from the same checkpoint).
   */
  private async waitOutThrottle(
    scope: CommitScope,
    signal: AbortSignal,
    throttle: ThrottledPage,
    waitsInARow: number,
    notes: Record<string, unknown>,
    err: PatchbayError,
  ): Promise<void> {
    const { stores, clock, logger, metrics } = this.ports;
    const { definition, runId } = scope;
    const maxWaits = this.settings.maxThrottleWaits ?? DEFAULT_RUNNER_SETTINGS.maxThrottleWaits;
    const maxWaitMs = this.settings.maxThrottleWaitMs ?? DEFAULT_RUNNER_SETTINGS.maxThrottleWaitMs;
    const waitMs = throttleWaitMs(throttle, waitsInARow);
    const why = describeThrottle(throttle, waitMs);
    const giveUp = (reason: string) =>
      new PatchbayError(
        err.code,
        `sync ${definition.id}: ${reason} (${why}); the next run resumes from the last committed page: ${err.message}`,
        { cause: err, ...(err.status !== undefined && { status: err.status }) },
      );
    if (waitsInARow >= maxWaits) throw giveUp(`a page was throttled ${waitsInARow + 1} times in a row`);
    if (waitMs > maxWaitMs)
      throw giveUp(
        `the source asks to wait ${waitMs / 1000} s, longer than a run waits (${maxWaitMs / 1000} s)`,
      );
    const so = (notes.throttled ?? { waits: 0, waitedMs: 0 }) as { waits: number; waitedMs: number };
    notes.throttled = { waits: so.waits + 1, waitedMs: so.waitedMs + waitMs };
    const until = new Date(clock.now() + waitMs).toISOString();
    await stores.runs.note(runId!, { ...notes, waiting: { reason: `throttled: ${why}`, until } });
    logger.warn(
      { sync: definition.id, run: runId, status: throttle.status, waitMs, waitsInARow: waitsInARow + 1 },
      `sync ${definition.id}: a page was throttled, ${why}; reading it again from the last checkpoint at ${until}`,
    );
    metrics?.throttleWaits.inc({ sync: definition.id });
    metrics?.throttleWaitSeconds.inc({ sync: definition.id }, waitMs / 1000);
    await clock.sleep(waitMs, signal);
    await stores.runs.note(runId!, notes);
  }

  /**
   * After an expired cursor: an incremental read goes back to the watermark the model gave; without
   * one, or in a full read, a full read starts over (new generation: its sweep finds what the lost
   * cursor would have reported deleted).
   */
  private async restart(scope: CommitScope, mode: SyncMode, restartFrom: unknown): Promise<void> {
    const { stores, clock } = this.ports;
    await stores.database.transaction(async (tx) => {
      const now = clock.now();
      if (mode === 'incremental' && restartFrom !== undefined) {
        await stores.state.fence(tx, scope.lease, now, scope.leaseMs, { checkpoint: restartFrom });
        return;
      }
      await stores.state.fence(tx, scope.lease, now, scope.leaseMs);
      await stores.state.beginRun(tx, scope.definition.id, scope.runId!, true, now);
    });
  }

  private async finish(
    definition: SyncDefinition,
    runId: string,
    status: RunStatus,
    startedAt: number,
    report: unknown,
    error?: PatchbayError,
  ): Promise<void> {
    const { stores, clock } = this.ports;
    const now = clock.now();
    await stores.runs.finish(runId, {
      status,
      now,
      ...(error && { errorCode: error.code, error: error.message }),
      ...(report !== undefined && { report }),
    });
    // A run that lost its lease leaves the state to the runner that holds it now.
    if (status === 'interrupted') return;
    // A run stopped at its time limit goes on at once; others wait for the schedule.
    const next = status === 'timed_out' ? now : nextRunTime(definition.schedule, startedAt, now);
    await stores.state.endRun(definition.id, next, now);
  }

  private observe(definition: SyncDefinition, mode: SyncMode, status: RunStatus, startedAt: number): void {
    const metrics = this.ports.metrics;
    if (!metrics) return;
    metrics.runs.inc({ sync: definition.id, mode, status });
    metrics.runSeconds.observe({ sync: definition.id, mode }, (this.ports.clock.now() - startedAt) / 1000);
  }
}

/** A run's span says how it ended and what it committed (ids and counts only: no cursor, no record). */
function describeRun(span: Span, outcome: RunOutcome): void {
  span.setAttribute('patchbay.sync.outcome', outcome.status);
  if (outcome.status === 'busy') return;
  span.setAttributes({ 'patchbay.sync.run': outcome.runId, 'patchbay.sync.mode': outcome.mode });
  for (const [key, value] of Object.entries(outcome.counts)) span.setAttribute(`patchbay.sync.${key}`, value);
  if (outcome.error) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
}

/** A page's span: its size, never its checkpoint (a cursor can hold a provider's token or PII). */
function pageAttributes(scope: CommitScope, page: PreparedPage): Record<string, number | string | boolean> {
  return {
    'patchbay.sync': scope.definition.id,
    'patchbay.sync.run': scope.runId ?? '',
    'patchbay.sync.seen': page.seen,
    'patchbay.sync.records': page.records.length,
    'patchbay.sync.deleted': page.deleted.length,
    'patchbay.sync.quarantined': page.quarantined.length,
    'patchbay.sync.checkpoint': page.hasCheckpoint,
    'patchbay.sync.complete': page.complete,
  };
}

/** The part of a fetch's context that does not change within a run. */
export function runContext(
  ports: SyncPorts,
  definition: SyncDefinition,
  http: HttpClient | undefined,
  signal: AbortSignal,
): SyncContext {
  const child = ports.logger.child({ sync: definition.id });
  return {
    syncId: definition.id,
    connectionId: definition.connection,
    get http(): HttpClient {
      if (!http) {
        throw new PatchbayError(
          ErrorCode.CONFIG_INVALID,
          `sync ${definition.id} has no connection: set connection to use ctx.http`,
        );
      }
      return http;
    },
    signal,
    logger: child,
    now: () => ports.clock.now(),
  };
}
