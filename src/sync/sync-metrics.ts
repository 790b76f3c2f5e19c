import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RunCounts } from '../store/sync/index.js';

/** The figures a status read gives per sync, for the gauges (collected when `/metrics` is scraped). */
export interface SyncGaugeSample {
  syncId: string;
  records: number;
  health: number;
  /** Seconds since the last successful run finished (freshness), or undefined before the first one. */
  lagSeconds: number | undefined;
  nextRunAt: number | null;
  deletesHeld: number;
  quarantineOpen: number;
  conflictsOpen: number;
  running: boolean;
}

/**
 * Prometheus metrics of syncs, per sync: counters moved by runs as they commit, gauges read from the
 * store at scrape time (so every process reports the same, whoever ran the sync).
 */
export class SyncMetrics {
  readonly records: Counter<'sync' | 'change'>;
  readonly runs: Counter<'sync' | 'mode' | 'status'>;
  readonly runSeconds: Histogram<'sync' | 'mode'>;
  readonly quarantined: Counter<'sync'>;
  readonly pushes: Counter<'sync' | 'outcome'>;
  readonly conflicts: Counter<'sync'>;
  readonly throttleWaits: Counter<'sync'>;
  readonly throttleWaitSeconds: Counter<'sync'>;
  readonly integrity: Counter<'sync' | 'outcome'>;

  constructor(registry: Registry, sample: () => Promise<SyncGaugeSample[]>) {
    const registers = [registry];
    this.records = new Counter({
      name: 'patchbay_sync_records_total',
      help: 'Records a sync changed in its store, by change (created, updated, deleted).',
      labelNames: ['sync', 'change'],
      registers,
    });
    this.runs = new Counter({
      name: 'patchbay_sync_runs_total',
      help: 'Sync runs finished, by mode and status (succeeded, failed, timed_out, interrupted).',
      labelNames: ['sync', 'mode', 'status'],
      registers,
    });
    this.runSeconds = new Histogram({
      name: 'patchbay_sync_run_duration_seconds',
      help: 'Duration of sync runs.',
      labelNames: ['sync', 'mode'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.quarantined = new Counter({
      name: 'patchbay_sync_quarantined_total',
      help: 'Records that failed transform or validation and went to the quarantine.',
      labelNames: ['sync'],
      registers,
    });
    this.pushes = new Counter({
      name: 'patchbay_sync_pushes_total',
      help: 'Local changes pushed to the source, by outcome (pushed, failed).',
      labelNames: ['sync', 'outcome'],
      registers,
    });
    this.conflicts = new Counter({
      name: 'patchbay_sync_conflicts_total',
      help: 'Records both sides changed in the same fields since the last sync.',
      labelNames: ['sync'],
      registers,
    });
    this.throttleWaits = new Counter({
      name: 'patchbay_sync_throttle_waits_total',
      help: 'Times a run waited for a page the source throttled (429, 503 with Retry-After) and read it again.',
      labelNames: ['sync'],
      registers,
    });
    this.throttleWaitSeconds = new Counter({
      name: 'patchbay_sync_throttle_wait_seconds_total',
      help: 'Seconds runs spent waiting for throttled pages.',
      labelNames: ['sync'],
      registers,
    });
    this.integrity = new Counter({
      name: 'patchbay_sync_integrity_checks_total',
      help: 'Integrity checks after runs, by outcome (equal, different, failed).',
      labelNames: ['sync', 'outcome'],
      registers,
    });
    const gauge = (name: string, help: string, value: (s: SyncGaugeSample) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['sync'],
        registers,
        async collect() {
          this.reset();
          try {
            for (const s of await sample()) {
              const v = value(s);
              if (v !== undefined) this.set({ sync: s.syncId }, v);
            }
          } catch {
            // The store being down shows in /readyz; the scrape still answers.
          }
        },
      });
    gauge('patchbay_sync_stored_records', 'Live records in the local store.', (s) => s.records);
    gauge('patchbay_sync_health', 'Health score 0–100 (see docs/syncs.md).', (s) => s.health);
    gauge(
      'patchbay_sync_lag_seconds',
      'Seconds since the last successful run finished.',
      (s) => s.lagSeconds,
    );
    gauge('patchbay_sync_next_run_timestamp_seconds', 'When the next scheduled run is due.', (s) =>
      s.nextRunAt === null ? undefined : s.nextRunAt / 1000,
    );
    gauge(
      'patchbay_sync_deletes_held',
      'Deletes held by the safety valve, waiting for confirmation.',
      (s) => s.deletesHeld,
    );
    gauge(
      'patchbay_sync_quarantine_open',
      'Quarantined records not yet retried or discarded.',
      (s) => s.quarantineOpen,
    );
    gauge('patchbay_sync_conflicts_open', 'Conflicts waiting in the manual queue.', (s) => s.conflictsOpen);
    gauge('patchbay_sync_running', '1 while a run holds the lease.', (s) => (s.running ? 1 : 0));
  }

  /** Moves the counters by what one commit of a run committed. */
  committed(sync: string, counts: Partial<RunCounts>): void {
    for (const change of ['created', 'updated', 'deleted'] as const) {
      const n = counts[change] ?? 0;
      if (n > 0) this.records.inc({ sync, change }, n);
    }
    if ((counts.quarantined ?? 0) > 0) this.quarantined.inc({ sync }, counts.quarantined);
    if ((counts.conflicts ?? 0) > 0) this.conflicts.inc({ sync }, counts.conflicts);
    if ((counts.pushed ?? 0) > 0) this.pushes.inc({ sync, outcome: 'pushed' }, counts.pushed);
    if ((counts.pushFailed ?? 0) > 0) this.pushes.inc({ sync, outcome: 'failed' }, counts.pushFailed);
  }
}
