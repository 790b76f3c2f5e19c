import type { Database } from './database.js';

export type TrafficKind = 'source' | 'connection';

/** Upper bounds of the latency buckets, in ms; the last bucket holds everything slower. */
export const TRAFFIC_BUCKETS_MS: readonly number[] = [50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/** What is counted of a subject's traffic: by one process in a minute, or added up over processes. */
export interface TrafficCounts {
  ok: number;
  failed: number;
  limited: number;
  /** Failures by reason code. */
  reasons: Record<string, number>;
  /** Counts per bucket of `TRAFFIC_BUCKETS_MS`, one more for the slower rest. */
  buckets: number[];
  durationMax: number;
  lastOkAt: number | null;
  /** The latest rate-limit headroom seen (for a summary: by any process), and when. */
  headroom: number | null;
  headroomAt: number | null;
}

/** Nothing counted yet. */
export function noTraffic(): TrafficCounts {
  return {
    ok: 0,
    failed: 0,
    limited: 0,
    reasons: {},
    buckets: TRAFFIC_BUCKETS_MS.map(() => 0).concat(0),
    durationMax: 0,
    lastOkAt: null,
    headroom: null,
    headroomAt: null,
  };
}

/** One process's running totals for one subject in one minute. */
export interface TrafficCell extends TrafficCounts {
  kind: TrafficKind;
  subject: string;
  /** Epoch minute (ms / 60 000). */
  minute: number;
}

/** Every process's totals for one subject since a time, added up. */
export interface TrafficSummary extends TrafficCounts {
  kind: TrafficKind;
  subject: string;
}

/**
 * Traffic of sources and connections per minute and process (migration 0013, decision 0114). A process
 * writes only its own rows, with its totals so far (an upsert that replaces them), so a repeated flush
 * counts nothing twice; a reader adds up every process's rows of the window.
 */
export class TrafficStore {
  constructor(private readonly database: Database) {}

  /** Writes `process`'s totals for each cell, replacing what it wrote before for that minute. */
  async upsert(process: string, cells: readonly TrafficCell[]): Promise<void> {
    if (cells.length === 0) return;
    await this.database.db
      .insertInto('traffic')
      .values(
        cells.map((c) => ({
          kind: c.kind,
          subject: c.subject,
          minute: c.minute,
          process,
          ok: c.ok,
          failed: c.failed,
          limited: c.limited,
          reasons: JSON.stringify(c.reasons),
          buckets: JSON.stringify(c.buckets),
          duration_max: Math.round(c.durationMax),
          last_ok_at: c.lastOkAt,
          headroom: c.headroom,
          headroom_at: c.headroomAt,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['kind', 'subject', 'minute', 'process']).doUpdateSet((eb) => ({
          ok: eb.ref('excluded.ok'),
          failed: eb.ref('excluded.failed'),
          limited: eb.ref('excluded.limited'),
          reasons: eb.ref('excluded.reasons'),
          buckets: eb.ref('excluded.buckets'),
          duration_max: eb.ref('excluded.duration_max'),
          last_ok_at: eb.ref('excluded.last_ok_at'),
          headroom: eb.ref('excluded.headroom'),
          headroom_at: eb.ref('excluded.headroom_at'),
        })),
      )
      .execute();
  }

  /** Every subject of `kind` with traffic at or after `at` (epoch ms; whole minutes), summed over processes. */
  async since(kind: TrafficKind, at: number): Promise<TrafficSummary[]> {
    const rows = await this.database.db
      .selectFrom('traffic')
      .selectAll()
      .where('kind', '=', kind)
      .where('minute', '>=', Math.floor(at / 60_000))
      .execute();
    const bySubject = new Map<string, TrafficSummary>();
    for (const row of rows) {
      let s = bySubject.get(row.subject);
      if (!s) {
        s = { kind, subject: row.subject, ...noTraffic() };
        bySubject.set(row.subject, s);
      }
      s.ok += Number(row.ok);
      s.failed += Number(row.failed);
      s.limited += Number(row.limited);
      for (const [reason, n] of Object.entries(JSON.parse(row.reasons) as Record<string, number>))
        s.reasons[reason] = (s.reasons[reason] ?? 0) + n;
      (JSON.parse(row.buckets) as number[]).forEach((n, i) => {
        if (i < s.buckets.length) s.buckets[i]! += n;
      });
      s.durationMax = Math.max(s.durationMax, Number(row.duration_max));
      if (row.last_ok_at !== null) s.lastOkAt = Math.max(s.lastOkAt ?? 0, Number(row.last_ok_at));
      if (row.headroom_at !== null && Number(row.headroom_at) >= (s.headroomAt ?? 0)) {
        s.headroomAt = Number(row.headroom_at);
        s.headroom = row.headroom === null ? null : Number(row.headroom);
      }
    }
    return [...bySubject.values()].sort((a, b) => (a.subject < b.subject ? -1 : 1));
  }

  /** Deletes rows of minutes before `before` (epoch ms); returns how many. */
  async prune(before: number): Promise<number> {
    const result = await this.database.db
      .deleteFrom('traffic')
      .where('minute', '<', Math.floor(before / 60_000))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** The p95 latency from bucket counts: the bound of the bucket holding it, at most the largest seen. */
export function bucketPercentile(
  buckets: readonly number[],
  durationMax: number,
  p = 0.95,
): number | undefined {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil(p * total);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return Math.min(TRAFFIC_BUCKETS_MS[i] ?? durationMax, durationMax);
  }
  return durationMax;
}
