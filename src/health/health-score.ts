import type { Health } from '../sync/health.js';

export type { Health } from '../sync/health.js';

/** Healthy at 80 and over, degraded from 50, failing below. */
export type HealthState = 'healthy' | 'degraded' | 'failing';

export function stateOf(score: number): HealthState {
  return score >= 80 ? 'healthy' : score >= 50 ? 'degraded' : 'failing';
}

/** Fewer attempts than this in the window say nothing about a success rate. */
const MIN_ATTEMPTS = 5;

export interface DestinationHealthInput {
  /** Attempts of the window (the last 15 min), any order. */
  attempts: readonly { succeeded: boolean; durationMs: number; startedAt: number }[];
  breaker: 'closed' | 'open' | 'half-open';
  disabled: boolean;
  now: number;
  /** When its current run of failures began (the delivery rules' `failingSince`). */
  failingSince: number | undefined;
}

/**
 * A destination's health, 0–100: 0 when disabled; else 100 less — failures (the share of the window's
 * attempts that failed, × 60, once there are 5), p95 latency (over 1 s: 10, over 5 s: 20), the breaker
 * (open: 30, half-open: 15), failing continuously for over an hour (10).
 */
export function destinationHealth(input: DestinationHealthInput): Health {
  if (input.disabled) return { score: 0, reasons: ['-100: disabled'] };
  const reasons: string[] = [];
  let score = 100;
  const take = (points: number, reason: string) => {
    score -= points;
    reasons.push(`-${points}: ${reason}`);
  };
  const { attempts } = input;
  if (attempts.length >= MIN_ATTEMPTS) {
    const failed = attempts.filter((a) => !a.succeeded).length;
    const points = Math.round((failed / attempts.length) * 60);
    if (points > 0) take(points, `${failed} of the last ${attempts.length} attempts failed`);
  }
  const p95 = percentile(
    attempts.map((a) => a.durationMs),
    0.95,
  );
  if (p95 !== undefined && p95 > 5000) take(20, `p95 latency ${p95} ms (over 5 s)`);
  else if (p95 !== undefined && p95 > 1000) take(10, `p95 latency ${p95} ms (over 1 s)`);
  if (input.breaker === 'open') take(30, 'the circuit breaker is open');
  else if (input.breaker === 'half-open') take(15, 'the circuit breaker is half-open (probing)');
  if (input.failingSince !== undefined && input.now - input.failingSince > 3_600_000)
    take(10, 'failing for over an hour');
  return { score: Math.max(0, score), reasons };
}

export interface ConnectionHealthInput {
  status: 'active' | 'needs_reauth' | 'error';
  statusReason: string | null;
  /** Calls answered 429 in the last hour (recorded by the process that made them). */
  rateLimited: number;
}

/**
 * A connection's health, 0–100: 100 less — its auth (needs re-authorization: 60, in error: 50), and its
 * rate-limit headroom as 429s in the last hour (5 each, up to 30).
 */
export function connectionHealth(input: ConnectionHealthInput): Health {
  const reasons: string[] = [];
  let score = 100;
  const take = (points: number, reason: string) => {
    score -= points;
    reasons.push(`-${points}: ${reason}`);
  };
  if (input.status === 'needs_reauth')
    take(60, `needs re-authorization${input.statusReason ? `: ${input.statusReason}` : ''}`);
  else if (input.status === 'error')
    take(50, `in error${input.statusReason ? `: ${input.statusReason}` : ''}`);
  if (input.rateLimited > 0)
    take(Math.min(30, input.rateLimited * 5), `${input.rateLimited} calls answered 429 in the last hour`);
  return { score: Math.max(0, score), reasons };
}

/** The value at `p` (0–1) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
