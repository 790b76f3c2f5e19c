import { newId } from '../core/ids.js';
import type { Database } from './database.js';

export type OpsSignalKind = 'loop_block' | 'rate_limited';

/** Signals of one kind and subject since a time: how many, the largest value, the last time. */
export interface OpsSignalSummary {
  kind: OpsSignalKind;
  subject: string;
  count: number;
  max: number;
  lastAt: number;
}

const RETENTION_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Observations that crossed a threshold, written by the process that saw them and read by `doctor` in
 * another. Writes are rare (a 429, a handler holding the loop over 50 ms); rows older than 7 days are
 * deleted by the writer, at most once an hour.
 */
export class OpsSignalStore {
  private prunedAt = 0;

  constructor(private readonly database: Database) {}

  async record(kind: OpsSignalKind, subject: string, value: number, now: number): Promise<void> {
    await this.database.db
      .insertInto('ops_signals')
      .values({ id: newId('sig', now), kind, subject, at: now, value: Math.round(value) })
      .execute();
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      await this.database.db
        .deleteFrom('ops_signals')
        .where('at', '<', now - RETENTION_MS)
        .execute();
    }
  }

  async since(at: number): Promise<OpsSignalSummary[]> {
    const rows = await this.database.db
      .selectFrom('ops_signals')
      .select((eb) => [
        'kind',
        'subject',
        eb.fn.countAll<number>().as('count'),
        eb.fn.max('value').as('max'),
        eb.fn.max('at').as('last_at'),
      ])
      .where('at', '>=', at)
      .groupBy(['kind', 'subject'])
      .orderBy('kind')
      .orderBy('subject')
      .execute();
    return rows.map((r) => ({
      kind: r.kind as OpsSignalKind,
      subject: r.subject,
      count: Number(r.count),
      max: Number(r.max),
      lastAt: Number(r.last_at),
    }));
  }
}
