import { hostname } from 'node:os';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { AttemptAnswer } from '../http/client-options.js';
import { parseQuotaHeaders } from '../resilience/quota-headers.js';
import {
  noTraffic,
  TRAFFIC_BUCKETS_MS,
  type TrafficCell,
  type TrafficKind,
  type TrafficStore,
} from '../store/traffic-store.js';

export interface TrafficRecorderOptions {
  store: TrafficStore;
  clock: Clock;
  logger: Logger;
  /** How often counts go to the store. Defaults to 10 s. */
  flushIntervalMs?: number;
  /** Rows older than this are deleted, at most once an hour. Defaults to 24 h. */
  retentionMs?: number;
  /** This process's name in the rows. Defaults to host, pid and a random suffix. */
  process?: string;
}

/** One observation: a source's request or a connection's call. */
export interface TrafficObservation {
  /** Answered as it should be: a request accepted, a call answered (not 5xx, 401, 403 or 429). */
  ok: boolean;
  /** Why it failed, as a code (`SIGNATURE_INVALID`, `HTTP_503`, `TIMEOUT`…). */
  reason?: string;
  /** Answered 429. */
  limited?: boolean;
  durationMs: number;
  /** The share of the provider's quota left (0–1), when its answer said. */
  headroom?: number;
}

const PRUNE_EVERY_MS = 3_600_000;

/**
 * Counts each source's requests and each connection's calls in memory, per minute, and writes this
 * process's totals to the store every 10 s (decision 0114) so that any process can score them. Recording
 * is a map update on the hot path; the flush timer starts with the first observation and `stop` writes
 * what is left. A failed write is logged and retried at the next flush, never thrown.
 */
export class TrafficRecorder {
  private readonly cells = new Map<string, TrafficCell & { dirty: boolean }>();
  private readonly process: string;
  private readonly interval: number;
  private readonly retention: number;
  private prunedAt = 0;
  private loop: Promise<void> | undefined;
  private stopping: AbortController | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: TrafficRecorderOptions) {
    this.process =
      options.process ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.interval = options.flushIntervalMs ?? 10_000;
    this.retention = options.retentionMs ?? 86_400_000;
  }

  record(kind: TrafficKind, subject: string, o: TrafficObservation): void {
    const now = this.options.clock.now();
    const minute = Math.floor(now / 60_000);
    const key = `${kind}\u0000${subject}\u0000${minute}`;
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { kind, subject, minute, ...noTraffic(), dirty: true };
      this.cells.set(key, cell);
    }
    cell.dirty = true;
    if (o.limited) cell.limited++;
    else if (o.ok) {
      cell.ok++;
      cell.lastOkAt = now;
    } else {
      cell.failed++;
      const reason = o.reason ?? 'FAILED';
      cell.reasons[reason] = (cell.reasons[reason] ?? 0) + 1;
    }
    let bucket = TRAFFIC_BUCKETS_MS.findIndex((bound) => o.durationMs <= bound);
    if (bucket < 0) bucket = TRAFFIC_BUCKETS_MS.length;
    cell.buckets[bucket]!++;
    if (o.durationMs > cell.durationMax) cell.durationMax = o.durationMs;
    if (o.headroom !== undefined) {
      cell.headroom = o.headroom;
      cell.headroomAt = now;
    }
    if (!this.loop && !this.stopped) this.startLoop();
  }

  /** Writes every changed minute's totals; forgets minutes that are over and written. */
  flush(): Promise<void> {
    // One flush at a time: a second caller waits for the one under way, then writes what it left.
    const run = (this.flushing ?? Promise.resolve()).catch(() => undefined).then(() => this.write());
    this.flushing = run;
    void run
      .catch(() => undefined)
      .then(() => {
        if (this.flushing === run) this.flushing = undefined;
      });
    return run;
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping?.abort();
    await this.loop;
    this.loop = undefined;
    await this.flush().catch((err) =>
      this.options.logger.warn({ err }, 'could not record traffic before stopping'),
    );
  }

  private async write(): Promise<void> {
    const { clock, store } = this.options;
    const now = clock.now();
    const current = Math.floor(now / 60_000);
    const dirty = [...this.cells.entries()].filter(([, c]) => c.dirty);
    for (const [, c] of dirty) c.dirty = false;
    try {
      await store.upsert(
        this.process,
        dirty.map(([, { dirty: _, ...cell }]) => cell),
      );
    } catch (err) {
      for (const [, c] of dirty) c.dirty = true;
      throw err;
    }
    for (const [key, c] of this.cells) if (c.minute < current && !c.dirty) this.cells.delete(key);
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await store.prune(now - this.retention);
    }
  }

  private startLoop(): void {
    const stopping = new AbortController();
    this.stopping = stopping;
    const { clock, logger } = this.options;
    this.loop = (async () => {
      while (!stopping.signal.aborted) {
        const slept = await clock.sleep(this.interval, stopping.signal).then(
          () => true,
          () => false,
        );
        if (!slept) return;
        await this.flush().catch((err) => logger.warn({ err }, 'could not record traffic'));
      }
    })();
  }
}

/**
 * A connection's attempt as traffic: failed when no answer came, or 5xx, 401 or 403 (the provider or the
 * credential is unwell; other 4xx are the caller's); 429 is counted apart; the headroom is the smallest
 * share left of the quotas the answer's headers state (a count of 0 without a limit is 0).
 */
export function attemptObservation(answer: AttemptAnswer, now: number): TrafficObservation {
  const { status } = answer;
  const failed = status === undefined || status >= 500 || status === 401 || status === 403;
  const observation: TrafficObservation = {
    ok: !failed && status !== 429,
    durationMs: answer.durationMs,
    ...(status === 429 && { limited: true }),
    ...(failed && { reason: status === undefined ? (answer.code ?? 'UNKNOWN') : `HTTP_${status}` }),
  };
  if (answer.headers) {
    const shares = parseQuotaHeaders(answer.headers, now).flatMap((q) =>
      q.limit !== undefined && q.limit > 0
        ? [Math.max(0, Math.min(1, q.remaining / q.limit))]
        : q.remaining === 0
          ? [0]
          : [],
    );
    if (shares.length > 0) observation.headroom = Math.min(...shares);
  }
  return observation;
}
