import { idFloor } from '../core/ids.js';
import type { Database } from './database.js';
import { OpsSignalStore, type OpsSignalSummary } from './ops-signal-store.js';

/** An object made through the admin API, as `doctor` audits it: its definition holds no secret. */
export interface StoredDefinition {
  id: string;
  definition: Record<string, unknown>;
}

export interface StoredConnectionShape {
  id: string;
  provider: string;
  baseUrl: string | null;
}

/** What `doctor` reads from the store: the API-made objects and the recent history. */
export interface AuditHistory {
  sources: StoredDefinition[];
  destinations: StoredDefinition[];
  connections: StoredConnectionShape[];
  /** Per source, events since `since` whose id Patchbay made from the body (the sender sent none). */
  eventsWithoutId: { source: string; count: number }[];
  /** Per destination, attempts since `since` answered 429. */
  destination429s: { destination: string; count: number }[];
  signals: OpsSignalSummary[];
}

/**
 * Reads it in a few bounded queries: events by their `received_at` index, attempts by their time-ordered
 * ids, signals by time. Statuses and ids only: no payload is read.
 */
export async function readAuditHistory(database: Database, since: number): Promise<AuditHistory> {
  const { db } = database;
  const [sources, destinations, connections, withoutId, limited, signals] = await Promise.all([
    db.selectFrom('sources').select(['id', 'definition']).orderBy('id').execute(),
    db
      .selectFrom('destinations')
      .select(['id', 'definition'])
      .where('origin', '=', 'api')
      .orderBy('id')
      .execute(),
    db.selectFrom('connections').select(['id', 'provider', 'base_url']).orderBy('id').execute(),
    db
      .selectFrom('events')
      .select((eb) => ['source', eb.fn.countAll<number>().as('count')])
      .where('received_at', '>=', since)
      .where('external_id', 'like', 'sha256:%')
      // Operational and published events get ids from Patchbay by design.
      .where('source', 'not in', ['patchbay', 'api'])
      .groupBy('source')
      .orderBy('source')
      .execute(),
    db
      .selectFrom('delivery_attempts as a')
      .innerJoin('deliveries as d', 'd.id', 'a.delivery_id')
      .select((eb) => ['d.destination_id', eb.fn.countAll<number>().as('count')])
      .where('a.id', '>=', idFloor('att', since))
      .where('a.started_at', '>=', since)
      .where('a.status_code', '=', 429)
      .groupBy('d.destination_id')
      .orderBy('d.destination_id')
      .execute(),
    new OpsSignalStore(database).since(since),
  ]);
  const parsed = (rows: { id: string; definition: string | null }[]) =>
    rows.map((r) => ({ id: r.id, definition: JSON.parse(r.definition ?? '{}') as Record<string, unknown> }));
  return {
    sources: parsed(sources),
    destinations: parsed(destinations),
    connections: connections.map((c) => ({ id: c.id, provider: c.provider, baseUrl: c.base_url })),
    eventsWithoutId: withoutId.map((r) => ({ source: r.source, count: Number(r.count) })),
    destination429s: limited.map((r) => ({ destination: r.destination_id, count: Number(r.count) })),
    signals,
  };
}
