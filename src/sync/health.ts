import type { SyncRun } from '../store/sync/index.js';
import { describe, type IntegrityReport } from './integrity.js';

export interface HealthInput {
  /** Latest runs, newest first (verify runs excluded). */
  runs: readonly SyncRun[];
  now: number;
  /** The gap between scheduled runs, when the schedule has one. */
  expectedGapMs: number | undefined;
  /** Finish time of the last successful run. */
  lastSuccessAt: number | undefined;
  deletesHeld: number;
  quarantineOpen: number;
  conflictsOpen: number;
  pushesFailed: number;
}

export interface Health {
  /** 0–100. */
  score: number;
  /** Why points were taken, one line each (empty when healthy). */
  reasons: string[];
}

/**
 * A sync's health, 0–100: 100 less, each at most once —
 * failures (the last run failed: 40, and 10 for each further failure in a row, up to 30 more), a run
 * interrupted and not yet resumed (10), staleness (the last success older than 2 schedule gaps: 15,
 * than 5: 30), invalid records (1 per % of the last run's records quarantined, up to 20; at least 5
 * while quarantined records are open), held deletes (20), open conflicts (10), failed pushes (10), the
 * last successful run's integrity check finding a difference or failing (15).
 */
export function healthOf(input: HealthInput): Health {
  const reasons: string[] = [];
  let score = 100;
  const take = (points: number, reason: string) => {
    score -= points;
    reasons.push(`-${points}: ${reason}`);
  };
  const finished = input.runs.filter((r) => r.status !== 'running');
  let failures = 0;
  for (const run of finished) {
    if (run.status !== 'failed') break;
    failures++;
  }
  if (failures > 0) {
    take(
      40 + Math.min(30, (failures - 1) * 10),
      `the last ${failures === 1 ? 'run' : `${failures} runs`} failed: ${finished[0]!.error ?? 'unknown error'}`,
    );
  }
  if (finished[0]?.status === 'interrupted')
    take(10, 'the last run was interrupted; the next one resumes it');
  if (input.expectedGapMs !== undefined && input.expectedGapMs > 0) {
    const since = input.lastSuccessAt === undefined ? undefined : input.now - input.lastSuccessAt;
    if (since !== undefined && since > 5 * input.expectedGapMs)
      take(30, 'no successful run for over 5 schedule gaps');
    else if (since !== undefined && since > 2 * input.expectedGapMs)
      take(15, 'no successful run for over 2 schedule gaps');
  }
  const last = finished.find(
    (r) => r.status === 'succeeded' || r.status === 'failed' || r.status === 'timed_out',
  );
  const share = last && last.seen > 0 ? last.quarantined / last.seen : 0;
  const invalid = Math.min(20, Math.max(input.quarantineOpen > 0 ? 5 : 0, Math.round(share * 100)));
  if (invalid > 0) take(invalid, `${input.quarantineOpen} quarantined records are open`);
  if (input.deletesHeld > 0)
    take(20, `${input.deletesHeld} deletes are held by the safety valve, waiting for confirmation`);
  if (input.conflictsOpen > 0) take(10, `${input.conflictsOpen} conflicts wait in the manual queue`);
  const integrity = (
    finished.find((r) => r.status === 'succeeded')?.report as { integrity?: IntegrityReport } | undefined
  )?.integrity;
  if (integrity && !integrity.equal)
    take(15, `the integrity check after the last successful run found ${describe(integrity)}`);
  if (input.pushesFailed > 0) take(10, `${input.pushesFailed} local changes failed to push`);
  return { score: Math.max(0, score), reasons };
}
