import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SyncStateStore } from '../store/sync/index.js';
import type { SyncDefinition } from './define-sync.js';
import type { RunOutcome, RunRequest, RunTrigger } from './sync-runner.js';

export interface SchedulerOptions {
  /** Longest sleep between two looks at the store (other processes' requests). Defaults to 1 s. */
  pollMs?: number;
  /** Runs this process has in flight at once. Defaults to 4. */
  concurrency?: number;
}

/**
 * Each process's scheduler: it looks for syncs that are due — scheduled, asked for (by hand, by an
 * event, by a local write), or left by a runner that died — and runs them, as many at once as its
 * concurrency allows. Every process may look; the lease lets exactly one of them run a sync at a time
 * (the others see `busy`). It sleeps until the next due time, at most `pollMs`, or until woken.
 */
export class SyncScheduler {
  private readonly running = new Map<string, Promise<RunOutcome>>();
  private readonly stop = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly pollMs: number;
  private readonly concurrency: number;

  constructor(
    private readonly deps: {
      state: SyncStateStore;
      definitions: () => readonly SyncDefinition[];
      run: (definition: SyncDefinition, request: RunRequest) => Promise<RunOutcome>;
      clock: Clock;
      logger: Logger;
    },
    options: SchedulerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.concurrency = options.concurrency ?? 4;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Looks at the store now (a request was made here, or another process notified one). */
  nudge(): void {
    this.wake?.();
  }

  /** Whether this process runs the sync right now. */
  isRunning(syncId: string): boolean {
    return this.running.has(syncId);
  }

  /** Stops looking and stops the runs in flight (their committed pages stay); resolves once they end. */
  async close(): Promise<void> {
    this.stop.abort();
    this.wake?.();
    await this.loop;
    await Promise.allSettled(this.running.values());
  }

  /** Stops runs with this signal (the engine's shutdown). */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  private async run(): Promise<void> {
    const { clock, logger } = this.deps;
    while (!this.stop.signal.aborted) {
      let next: number | undefined;
      try {
        next = await this.tick();
      } catch (err) {
        logger.warn({ err: errorMessage(err) }, 'sync scheduler: looking for due syncs failed; trying again');
      }
      const wait = Math.max(0, Math.min(this.pollMs, next === undefined ? this.pollMs : next - clock.now()));
      await new Promise<void>((resolve) => {
        const sleep = new AbortController();
        this.wake = () => sleep.abort();
        clock.sleep(wait, AbortSignal.any([sleep.signal, this.stop.signal])).then(resolve, resolve);
      });
      this.wake = undefined;
    }
  }

  /** Starts what is due; returns when to look next. */
  private async tick(): Promise<number | undefined> {
    const { state, definitions, clock } = this.deps;
    const byId = new Map(definitions().map((d) => [d.id, d]));
    const ids = [...byId.keys()].filter((id) => !this.running.has(id));
    const now = clock.now();
    for (const due of await state.due(ids, now)) {
      if (this.running.size >= this.concurrency) break;
      const definition = byId.get(due.id)!;
      const requested = due.requested && due.requested.at <= now;
      const trigger: RunTrigger = requested ? (due.requested!.trigger as RunTrigger) : 'schedule';
      this.launch(definition, { trigger, signal: this.stop.signal });
    }
    return state.nextDue(ids);
  }

  private launch(definition: SyncDefinition, request: RunRequest): void {
    const { logger } = this.deps;
    const run = this.deps
      .run(definition, request)
      .catch((err): RunOutcome => {
        logger.error(
          { sync: definition.id, err: errorMessage(err) },
          `sync ${definition.id}: the run could not start`,
        );
        return { status: 'busy' };
      })
      .finally(() => this.running.delete(definition.id));
    this.running.set(definition.id, run);
  }
}
