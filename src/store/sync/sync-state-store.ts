import { sql } from 'kysely';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { Database, Tx } from '../database.js';
import type { SyncStateTable } from '../schema.js';

export type ReadMode = 'incremental' | 'full';

/** A sync's committed state, as the runner and the API read it. */
export interface SyncState {
  id: string;
  paused: boolean;
  /** The incremental read's checkpoint. */
  checkpoint: unknown;
  /** A full read is wanted or under way; `fullCheckpoint` is its progress. */
  fullPending: boolean;
  fullCheckpoint: unknown;
  fullStartedAt: number | null;
  generation: number;
  /** A complete full read's deletes that may go (the sweep is finished by the next run if cut short). */
  sweepGeneration: number | null;
  /** Deletes the safety valve holds, until confirmed. */
  held: { generation: number; count: number; live: number; at: number } | null;
  highWater: number;
  lease: { owner: string; token: number; until: number } | null;
  leaseToken: number;
  requested: { at: number; mode: ReadMode; trigger: string } | null;
  nextRunAt: number | null;
  lastRunId: string | null;
  updatedAt: number;
}

/** A held lease: its token fences every commit made under it. */
export interface Lease {
  syncId: string;
  owner: string;
  token: number;
  until: number;
}

/** What a page's commit moves forward with its records (all optional: only what changed). */
export interface ProgressUpdate {
  checkpoint?: unknown;
  fullCheckpoint?: unknown;
}

/**
 * Sync state and leases. One run per sync at a time, across processes: acquiring is one conditional
 * update (free or expired), bumping `lease_token`; every commit under the lease first runs `fence`, an
 * update naming that token, so a runner whose lease expired (or was taken over) cannot commit — its
 * transaction fails with `LEASE_LOST` before anything is written. `fence` also renews the lease and
 * takes the row lock that orders a sync's commits, and hands out the `updated_at` stamp of the page.
 */
export class SyncStateStore {
  constructor(private readonly database: Database) {}

  /** Creates the rows of syncs seen for the first time, first due at `firstRunAt` (default: at once). */
  async ensure(
    ids: readonly string[],
    now: number,
    firstRunAt: (id: string) => number | null = () => now,
  ): Promise<void> {
    if (ids.length === 0) return;
    await this.database.db
      .insertInto('sync_state')
      .values(ids.map((id) => ({ ...newRow(id, now), next_run_at: firstRunAt(id) })))
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async get(id: string, tx?: Tx): Promise<SyncState | undefined> {
    const row = await (tx?.db ?? this.database.db)
      .selectFrom('sync_state')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async require(id: string, tx?: Tx): Promise<SyncState> {
    const state = await this.get(id, tx);
    if (!state) throw new PatchbayError(ErrorCode.NOT_FOUND, `no sync ${id}`);
    return state;
  }

  async list(ids: readonly string[]): Promise<SyncState[]> {
    if (ids.length === 0) return [];
    const rows = await this.database.db.selectFrom('sync_state').selectAll().where('id', 'in', ids).execute();
    return rows.map(fromRow);
  }

  /** Syncs among `ids` that are due (scheduled or requested), not paused and not leased at `now`. */
  async due(ids: readonly string[], now: number): Promise<SyncState[]> {
    if (ids.length === 0) return [];
    const rows = await this.database.db
      .selectFrom('sync_state')
      .selectAll()
      .where('id', 'in', ids)
      .where('paused', '=', 0)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .where((eb) =>
        eb.or([
          eb('requested_at', '<=', now),
          eb('next_run_at', '<=', now),
          eb('sweep_generation', 'is not', null),
        ]),
      )
      .execute();
    return rows.map(fromRow);
  }

  /** The earliest time any of `ids` is due (for the scheduler's sleep). */
  async nextDue(ids: readonly string[]): Promise<number | undefined> {
    if (ids.length === 0) return undefined;
    const rows = await this.database.db
      .selectFrom('sync_state')
      .select(['next_run_at', 'requested_at', 'lease_until'])
      .where('id', 'in', ids)
      .where('paused', '=', 0)
      .execute();
    let next: number | undefined;
    for (const r of rows) {
      const due = Math.min(r.next_run_at ?? Infinity, r.requested_at ?? Infinity);
      if (!Number.isFinite(due)) continue;
      const at = Math.max(due, r.lease_until ?? 0);
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  /** Takes the lease when it is free or expired; undefined when another runner holds it. */
  async acquire(id: string, owner: string, now: number, leaseMs: number): Promise<Lease | undefined> {
    const row = await this.database.db
      .updateTable('sync_state')
      .set((eb) => ({
        lease_owner: owner,
        lease_token: eb('lease_token', '+', 1),
        lease_until: now + leaseMs,
        updated_at: now,
      }))
      .where('id', '=', id)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .returning(['lease_token'])
      .executeTakeFirst();
    return row ? { syncId: id, owner, token: Number(row.lease_token), until: now + leaseMs } : undefined;
  }

  /** Extends a live lease; false when it expired or was taken over (the holder must stop). */
  async renew(lease: Lease, now: number, leaseMs: number): Promise<boolean> {
    const result = await this.database.db
      .updateTable('sync_state')
      .set({ lease_until: now + leaseMs })
      .where('id', '=', lease.syncId)
      .where('lease_token', '=', lease.token)
      .where('lease_until', '>=', now)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    lease.until = now + leaseMs;
    return true;
  }

  /** Gives the lease up (a no-op when it was lost). */
  async release(lease: Lease, now: number): Promise<void> {
    await this.database.db
      .updateTable('sync_state')
      .set({ lease_owner: null, lease_until: null, updated_at: now })
      .where('id', '=', lease.syncId)
      .where('lease_token', '=', lease.token)
      .execute();
  }

  /**
   * The first statement of every commit under a lease: checks the token and that the lease is live,
   * renews it, and returns the stamp for records changed in this transaction (strictly above every
   * earlier one, so a reader paging by `updated_at` never misses a later commit). Throws `LEASE_LOST`.
   */
  async fence(
    tx: Tx,
    lease: Lease,
    now: number,
    leaseMs: number,
    progress: ProgressUpdate = {},
  ): Promise<number> {
    const row = await tx.db
      .updateTable('sync_state')
      .set({
        lease_until: now + leaseMs,
        high_water: sql<number>`case when high_water + 1 > ${now} then high_water + 1 else ${now} end`,
        updated_at: now,
        ...('checkpoint' in progress && { checkpoint: json(progress.checkpoint) }),
        ...('fullCheckpoint' in progress && { full_checkpoint: json(progress.fullCheckpoint) }),
      })
      .where('id', '=', lease.syncId)
      .where('lease_token', '=', lease.token)
      .where('lease_until', '>=', now)
      .returning(['high_water'])
      .executeTakeFirst();
    if (!row) {
      throw new PatchbayError(
        ErrorCode.LEASE_LOST,
        `sync ${lease.syncId}: the lease (token ${lease.token}) expired or was taken over; nothing was committed`,
      );
    }
    lease.until = now + leaseMs;
    return Number(row.high_water);
  }

  /**
   * A run begins (inside its first fenced transaction): the request it answers is cleared, and the
   * sync is due again at once — if this runner dies, the next holder of the lease resumes the run. With
   * `startFull`, a full read begins: a new mark generation, no progress, any held deletes superseded.
   */
  async beginRun(tx: Tx, id: string, runId: string, startFull: boolean, now: number): Promise<void> {
    await tx.db
      .updateTable('sync_state')
      .set((eb) => ({
        requested_at: null,
        requested_mode: null,
        requested_trigger: null,
        last_run_id: runId,
        next_run_at: now,
        ...(startFull && {
          generation: eb('generation', '+', 1),
          full_pending: 1,
          full_checkpoint: null,
          full_started_at: now,
          held_generation: null,
          held_count: null,
          held_live: null,
          held_at: null,
        }),
      }))
      .where('id', '=', id)
      .execute();
  }

  /**
   * A full read ended: its last checkpoint becomes the incremental one. `sweep`: its deletes may go
   * (the sweep runs next, batch by batch, and a later run finishes it if cut short); `held`: the safety
   * valve keeps them until confirmed; neither: the read was incomplete and deletes nothing.
   */
  async endFullRead(
    tx: Tx,
    id: string,
    outcome: { sweepGeneration?: number; held?: { generation: number; count: number; live: number } },
    now: number,
  ): Promise<void> {
    await tx.db
      .updateTable('sync_state')
      .set((eb) => ({
        checkpoint: eb.ref('full_checkpoint'),
        full_pending: 0,
        full_checkpoint: null,
        full_started_at: null,
        ...(outcome.sweepGeneration !== undefined && { sweep_generation: outcome.sweepGeneration }),
        ...(outcome.held && {
          held_generation: outcome.held.generation,
          held_count: outcome.held.count,
          held_live: outcome.held.live,
          held_at: now,
        }),
      }))
      .where('id', '=', id)
      .execute();
  }

  /** The sweep of a complete full read is done. */
  async endSweep(tx: Tx, id: string): Promise<void> {
    await tx.db.updateTable('sync_state').set({ sweep_generation: null }).where('id', '=', id).execute();
  }

  /** A run ended: when the next one is due (null: only by hand or by an event). */
  async endRun(id: string, nextRunAt: number | null, now: number, tx?: Tx): Promise<void> {
    await (tx?.db ?? this.database.db)
      .updateTable('sync_state')
      .set({ next_run_at: nextRunAt, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Confirms held deletes: the next run sweeps them. False when nothing of that generation is held
   * (already confirmed, discarded, or superseded by a newer full read).
   */
  async confirmHeld(id: string, generation: number, now: number): Promise<boolean> {
    const result = await this.database.db
      .updateTable('sync_state')
      .set({
        sweep_generation: generation,
        held_generation: null,
        held_count: null,
        held_live: null,
        held_at: null,
        requested_at: now,
        requested_trigger: 'confirm',
        updated_at: now,
      })
      .where('id', '=', id)
      .where('held_generation', '=', generation)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Drops held deletes: the records stay (the next complete full read decides again). */
  async discardHeld(id: string, generation: number, now: number): Promise<boolean> {
    const result = await this.database.db
      .updateTable('sync_state')
      .set({ held_generation: null, held_count: null, held_live: null, held_at: null, updated_at: now })
      .where('id', '=', id)
      .where('held_generation', '=', generation)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Asks for a run at `now` (by hand, by an event, by a write): any process's scheduler takes it. */
  async request(id: string, mode: ReadMode, trigger: string, now: number): Promise<void> {
    const result = await this.database.db
      .updateTable('sync_state')
      .set(() => ({
        // The earliest request stands: a burst of debounced requests does not push the run back.
        requested_at: sql<number>`case when requested_at is not null and requested_at < ${now} then requested_at else ${now} end`,
        // A full read asked for is not downgraded by a later incremental request.
        requested_mode: mode === 'full' ? 'full' : sql<ReadMode>`coalesce(requested_mode, ${'incremental'})`,
        requested_trigger: trigger,
        updated_at: now,
      }))
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new PatchbayError(ErrorCode.NOT_FOUND, `no sync ${id}`);
  }

  async setPaused(id: string, paused: boolean, now: number): Promise<void> {
    const result = await this.database.db
      .updateTable('sync_state')
      .set({ paused: paused ? 1 : 0, updated_at: now })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new PatchbayError(ErrorCode.NOT_FOUND, `no sync ${id}`);
  }
}

function newRow(id: string, now: number): SyncStateTable {
  return {
    id,
    paused: 0,
    checkpoint: null,
    full_pending: 0,
    full_checkpoint: null,
    full_started_at: null,
    generation: 0,
    sweep_generation: null,
    held_generation: null,
    held_count: null,
    held_live: null,
    held_at: null,
    high_water: 0,
    lease_owner: null,
    lease_token: 0,
    lease_until: null,
    requested_at: null,
    requested_mode: null,
    requested_trigger: null,
    next_run_at: now,
    last_run_id: null,
    created_at: now,
    updated_at: now,
  };
}

function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function parse(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

function fromRow(r: SyncStateTable): SyncState {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    paused: Number(r.paused) === 1,
    checkpoint: parse(r.checkpoint),
    fullPending: Number(r.full_pending) === 1,
    fullCheckpoint: parse(r.full_checkpoint),
    fullStartedAt: n(r.full_started_at),
    generation: Number(r.generation),
    sweepGeneration: n(r.sweep_generation),
    held:
      r.held_generation === null
        ? null
        : {
            generation: Number(r.held_generation),
            count: Number(r.held_count),
            live: Number(r.held_live),
            at: Number(r.held_at),
          },
    highWater: Number(r.high_water),
    lease:
      r.lease_owner !== null && r.lease_until !== null
        ? { owner: r.lease_owner, token: Number(r.lease_token), until: Number(r.lease_until) }
        : null,
    leaseToken: Number(r.lease_token),
    requested:
      r.requested_at === null
        ? null
        : {
            at: Number(r.requested_at),
            mode: r.requested_mode ?? 'incremental',
            trigger: r.requested_trigger ?? 'manual',
          },
    nextRunAt: n(r.next_run_at),
    lastRunId: r.last_run_id,
    updatedAt: Number(r.updated_at),
  };
}
