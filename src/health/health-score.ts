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
  /** Calls answered 429 in the last hour (recorded by every process that made them). */
  rateLimited: number;
  /** Calls of the window (the last 15 min), 429s included, and those that failed (no answer, 5xx, 401, 403). */
  calls?: number;
  failed?: number;
  /** Failures by code (`HTTP_503`, `TIMEOUT`…). */
  failures?: Readonly<Record<string, number>>;
  /** p95 latency of the window's calls, in ms. */
  p95Ms?: number | undefined;
  /** The breaker of the connection's calls, as the shared store holds it. */
  breaker?: 'closed' | 'open' | 'half-open';
  /** The share of the provider's quota left (0–1) in its last answer that said, within the window. */
  headroom?: number | null;
}

/**
 * A connection's health, 0–100: 100 less — its auth (needs re-authorization: 60, in error: 50); the
 * failed share of the last 15 min's calls × 40 (once there are 5); p95 latency (over 1 s: 10, over 5 s: 20);
 * the breaker (open: 30, half-open: 15); 429s in the last hour (5 each, up to 30); the quota left in the
 * provider's last answer (none: 25, under 10 %: 10).
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
  const calls = input.calls ?? 0;
  const failed = input.failed ?? 0;
  if (calls >= MIN_ATTEMPTS && failed > 0) {
    const points = Math.round((failed / calls) * 40);
    if (points > 0) take(points, `${failed} of the last ${calls} calls failed${byCode(input.failures)}`);
  }
  latency(input.p95Ms, take);
  if (input.breaker === 'open') take(30, 'the circuit breaker is open');
  else if (input.breaker === 'half-open') take(15, 'the circuit breaker is half-open (probing)');
  if (input.rateLimited > 0)
    take(Math.min(30, input.rateLimited * 5), `${input.rateLimited} calls answered 429 in the last hour`);
  const headroom = input.headroom;
  if (headroom !== undefined && headroom !== null) {
    if (headroom <= 0) take(25, 'no rate-limit quota left (as the provider last said)');
    else if (headroom < 0.1)
      take(10, `${Math.round(headroom * 100)} % of the rate-limit quota left (under 10 %)`);
  }
  return { score: Math.max(0, score), reasons };
}

export interface SourceHealthInput {
  /** Requests of the window (the last 15 min). */
  requests: number;
  /** Of those, refused (signature, size, media type) or failed storing. */
  refused: number;
  /** Refusals and failures by code (`SIGNATURE_INVALID`, `STORE_FAILED`…). */
  failures: Readonly<Record<string, number>>;
  /** p95 of the time to verify and commit a request, in ms. */
  p95Ms: number | undefined;
}

/**
 * A source's health, 0–100: 100 less — the refused share of the last 15 min's requests × 60 (once there
 * are 5); requests the store failed (20, whatever their share: the senders must retry them); p95 time to
 * answer (over 1 s: 10, over 5 s: 20). A source that receives nothing is healthy: senders with nothing to
 * send are normal, and a source has no state of its own to be in error.
 */
export function sourceHealth(input: SourceHealthInput): Health {
  const reasons: string[] = [];
  let score = 100;
  const take = (points: number, reason: string) => {
    score -= points;
    reasons.push(`-${points}: ${reason}`);
  };
  if (input.requests >= MIN_ATTEMPTS && input.refused > 0) {
    const points = Math.round((input.refused / input.requests) * 60);
    if (points > 0)
      take(
        points,
        `${input.refused} of the last ${input.requests} requests refused${byCode(input.failures)}`,
      );
  }
  const storeFailed = input.failures.STORE_FAILED ?? 0;
  if (storeFailed > 0) take(20, `${storeFailed} requests could not be stored (answered 5xx)`);
  latency(input.p95Ms, take);
  return { score: Math.max(0, score), reasons };
}

function latency(p95: number | undefined, take: (points: number, reason: string) => void): void {
  if (p95 !== undefined && p95 > 5000) take(20, `p95 latency ${p95} ms (over 5 s)`);
  else if (p95 !== undefined && p95 > 1000) take(10, `p95 latency ${p95} ms (over 1 s)`);
}

/** ` (SIGNATURE_INVALID 8, PAYLOAD_TOO_LARGE 1)`, most first. */
function byCode(failures: Readonly<Record<string, number>> | undefined): string {
  const entries = Object.entries(failures ?? {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return entries.length === 0 ? '' : ` (${entries.map(([code, n]) => `${code} ${n}`).join(', ')})`;
}

/** The value at `p` (0–1) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
