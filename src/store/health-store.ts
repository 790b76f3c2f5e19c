import { idFloor } from '../core/ids.js';
import type { Database } from './database.js';

/** One delivery attempt as health scores read it. */
export interface AttemptSample {
  destinationId: string;
  succeeded: boolean;
  durationMs: number;
  startedAt: number;
}

/** The most recent delivery attempts since `since` (newest first, at most `limit`), by their time-ordered ids. */
export async function recentAttempts(
  database: Database,
  since: number,
  limit: number,
): Promise<AttemptSample[]> {
  const rows = await database.db
    .selectFrom('delivery_attempts as a')
    .innerJoin('deliveries as d', 'd.id', 'a.delivery_id')
    .select(['d.destination_id', 'a.outcome', 'a.duration_ms', 'a.started_at'])
    .where('a.id', '>=', idFloor('att', since))
    // Ids are clamped to be monotonic within a process; the time itself decides.
    .where('a.started_at', '>=', since)
    .orderBy('a.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    destinationId: r.destination_id,
    succeeded: r.outcome === 'succeeded',
    durationMs: Number(r.duration_ms),
    startedAt: Number(r.started_at),
  }));
}
