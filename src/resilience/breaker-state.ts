import type { TripCounters, TripPolicy } from './breaker-trip.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Everything a breaker knows, as JSON, so one record in a shared store makes every process agree on
 * the state, the failure counts and the half-open probes handed out.
 */
export interface BreakerSnapshot {
  state: BreakerState;
  /** When the breaker last opened, epoch ms (0 if never). */
  openedAt: number;
  /** Start times of the probes in flight while half-open. */
  probes: number[];
  /** Probes that succeeded in the current half-open period. */
  probeSuccesses: number;
  counters: TripCounters;
  /** Changes on every state change, so an outcome from an earlier period is not counted in this one. */
  generation: number;
}

export const initialSnapshot: BreakerSnapshot = Object.freeze({
  state: 'closed',
  openedAt: 0,
  probes: [],
  probeSuccesses: 0,
  counters: {},
  generation: 0,
}) as BreakerSnapshot;

export interface BreakerConfig {
  trip: TripPolicy;
  halfOpenAfterMs: number;
  halfOpenProbes: number;
  probeTimeoutMs: number;
}

export type Admission =
  | { admitted: true; probe: boolean; generation: number; startedAt: number }
  | { admitted: false; retryAfterMs: number };

export type Outcome = 'success' | 'failure' | 'ignore';

/** The pure transition for "may a call go through now?". */
export function admit(
  current: BreakerSnapshot,
  now: number,
  config: BreakerConfig,
): { next: BreakerSnapshot; admission: Admission } {
  let s = current;
  if (s.state === 'closed') {
    return { next: s, admission: { admitted: true, probe: false, generation: s.generation, startedAt: now } };
  }
  if (s.state === 'open') {
    const reopensAt = s.openedAt + config.halfOpenAfterMs;
    if (now < reopensAt) return { next: s, admission: { admitted: false, retryAfterMs: reopensAt - now } };
    s = { ...s, state: 'half-open', probes: [], probeSuccesses: 0, generation: s.generation + 1 };
  }
  // half-open: probes whose caller vanished (a process died mid-probe) stop counting after probeTimeoutMs.
  const probes = s.probes.filter((at) => at > now - config.probeTimeoutMs);
  if (probes.length + s.probeSuccesses >= config.halfOpenProbes) {
    const oldest = probes.length > 0 ? Math.min(...probes) : now;
    const next = probes.length === s.probes.length ? s : { ...s, probes };
    return {
      next,
      admission: { admitted: false, retryAfterMs: Math.max(1, oldest + config.probeTimeoutMs - now) },
    };
  }
  return {
    next: { ...s, probes: [...probes, now] },
    admission: { admitted: true, probe: true, generation: s.generation, startedAt: now },
  };
}

/**
 * The pure transition for a finished call. `pendingSuccesses` are successes this process counted
 * locally but has not written yet (shared mode batches them).
 */
export function record(
  s: BreakerSnapshot,
  ticket: { probe: boolean; generation: number; startedAt: number },
  outcome: Outcome,
  now: number,
  config: BreakerConfig,
  pendingSuccesses = 0,
): BreakerSnapshot {
  let base = s;
  if (pendingSuccesses > 0 && base.state === 'closed') {
    base = { ...base, counters: config.trip.record(base.counters, pendingSuccesses, 0, now) };
  }
  if (ticket.generation !== base.generation) return base;
  if (ticket.probe) {
    if (base.state !== 'half-open') return base;
    const index = base.probes.indexOf(ticket.startedAt);
    const probes = index < 0 ? base.probes : base.probes.filter((_, i) => i !== index);
    if (outcome === 'failure') return opened(base, now);
    if (outcome === 'ignore') return { ...base, probes };
    const probeSuccesses = base.probeSuccesses + 1;
    if (probeSuccesses >= config.halfOpenProbes) {
      return { ...initialSnapshot, generation: base.generation + 1, openedAt: base.openedAt };
    }
    return { ...base, probes, probeSuccesses };
  }
  if (base.state !== 'closed' || outcome === 'ignore') return base;
  const counters = config.trip.record(
    base.counters,
    outcome === 'success' ? 1 : 0,
    outcome === 'failure' ? 1 : 0,
    now,
  );
  if (outcome === 'failure' && config.trip.shouldOpen(counters, now)) return opened(base, now);
  return counters === base.counters ? base : { ...base, counters };
}

function opened(s: BreakerSnapshot, now: number): BreakerSnapshot {
  return {
    state: 'open',
    openedAt: now,
    probes: [],
    probeSuccesses: 0,
    counters: {},
    generation: s.generation + 1,
  };
}
