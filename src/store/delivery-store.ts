import type { Database, Tx } from './database.js';
import type {
  DeliveriesTable,
  DeliveryAttemptsTable,
  DeliveryStatus,
  DestinationStatus,
  DestinationsTable,
} from './schema.js';

export type Delivery = DeliveriesTable;
export type DeliveryAttempt = DeliveryAttemptsTable;
export type DestinationState = DestinationsTable;

export interface DeliveryQuery {
  destinationId?: string;
  eventId?: string;
  status?: DeliveryStatus;
  /** Created at or after (ms). */
  since?: number;
  after?: string;
  limit: number;
}

/**
 * Deliveries, their attempts log, and destinations' runtime state (enabled, disabled, failing since).
 * Plain persistence: the rules of when to retry, disable or alert live in the delivery worker.
 */
export class DeliveryStore {
  constructor(private readonly database: Database) {}

  get db() {
    return this.database.db;
  }

  async insertMany(tx: Tx, rows: readonly Delivery[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      await tx.db
        .insertInto('deliveries')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.columns(['event_id', 'destination_id']).doNothing())
        .execute();
    }
  }

  async get(id: string, tx?: Tx): Promise<Delivery | undefined> {
    return (tx?.db ?? this.database.db)
      .selectFrom('deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async list(query: DeliveryQuery): Promise<Delivery[]> {
    let q = this.database.db.selectFrom('deliveries').selectAll();
    if (query.destinationId !== undefined) q = q.where('destination_id', '=', query.destinationId);
    if (query.eventId !== undefined) q = q.where('event_id', '=', query.eventId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.since !== undefined) q = q.where('created_at', '>=', query.since);
    if (query.after !== undefined) q = q.where('id', '>', query.after);
    return q
      .orderBy('id')
      .limit(query.limit + 1)
      .execute();
  }

  async attempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    return this.database.db
      .selectFrom('delivery_attempts')
      .selectAll()
      .where('delivery_id', '=', deliveryId)
      .orderBy('attempt')
      .execute();
  }

  async update(tx: Tx, id: string, changes: Partial<Delivery>): Promise<void> {
    await tx.db.updateTable('deliveries').set(changes).where('id', '=', id).execute();
  }

  async addAttempt(tx: Tx, attempt: DeliveryAttempt): Promise<void> {
    await tx.db.insertInto('delivery_attempts').values(attempt).execute();
  }

  /** Ids of a destination's deliveries in `status` created since `since`, oldest first, at most `limit`. */
  async idsFor(
    destinationId: string,
    status: DeliveryStatus,
    since: number,
    limit: number,
  ): Promise<string[]> {
    const rows = await this.database.db
      .selectFrom('deliveries')
      .select('id')
      .where('destination_id', '=', destinationId)
      .where('status', '=', status)
      .where('created_at', '>=', since)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** The oldest pending delivery of a destination (ordered mode processes them one by one). */
  async oldestPending(destinationId: string): Promise<Delivery | undefined> {
    return this.database.db
      .selectFrom('deliveries')
      .selectAll()
      .where('destination_id', '=', destinationId)
      .where('status', '=', 'pending')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
  }

  // --- destinations' runtime state ---

  async destination(id: string, tx?: Tx): Promise<DestinationState | undefined> {
    return (tx?.db ?? this.database.db)
      .selectFrom('destinations')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async destinations(): Promise<DestinationState[]> {
    return this.database.db.selectFrom('destinations').selectAll().orderBy('id').execute();
  }

  /** Creates the state row of a destination if it has none (status enabled, or as given). */
  async ensureDestination(
    id: string,
    origin: DestinationState['origin'],
    now: number,
    status: DestinationStatus = 'enabled',
    definition: string | null = null,
  ): Promise<void> {
    await this.database.db
      .insertInto('destinations')
      .values({
        id,
        origin,
        definition,
        status,
        disabled_reason: status === 'disabled' ? 'disabled in configuration' : null,
        disabled_at: status === 'disabled' ? now : null,
        failing_since: null,
        failure_alerted: 0,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async updateDestination(id: string, changes: Partial<DestinationState>, tx?: Tx): Promise<number> {
    const result = await (tx?.db ?? this.database.db)
      .updateTable('destinations')
      .set(changes)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async deleteDestination(id: string): Promise<void> {
    await this.database.db.deleteFrom('destinations').where('id', '=', id).execute();
  }

  /** Delivery counts by destination and status, for the destinations view and metrics. */
  async countsByDestination(): Promise<{ destination_id: string; status: DeliveryStatus; n: number }[]> {
    const rows = await this.database.db
      .selectFrom('deliveries')
      .select(['destination_id', 'status'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .groupBy(['destination_id', 'status'])
      .execute();
    return rows.map((r) => ({ ...r, n: Number(r.n) }));
  }
}
