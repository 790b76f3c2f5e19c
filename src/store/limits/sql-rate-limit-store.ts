import {
  type GcraRequest,
  type Grant,
  type LeaseRequest,
  type RateLimitStore,
  type StoreTime,
  timeOf,
  type WindowRequest,
} from '../../resilience/index.js';
import type { Database, Db } from '../database.js';

interface KeyState {
  tat: number | null;
  blocked_until: number;
}

/**
 * Rate-limit state in the store's own database (SQLite or PostgreSQL), for installations without
 * Redis. Each operation is one transaction holding the key's `rate_limit_state` row: SQLite's
 * `BEGIN IMMEDIATE` serialises writers, PostgreSQL takes the row with `FOR UPDATE`. The time is read
 * once the row is held, so a slot is stamped after any wait for another process's lock.
 */
export class SqlRateLimitStore implements RateLimitStore {
  constructor(private readonly database: Database) {}

  private locked<T>(
    key: string,
    at: StoreTime,
    fn: (db: Db, state: KeyState, now: number) => Promise<T>,
  ): Promise<T> {
    return this.database.transaction(async (tx) => {
      await tx.db
        .insertInto('rate_limit_state')
        .values({ key, tat: null, blocked_until: 0 })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      let query = tx.db
        .selectFrom('rate_limit_state')
        .select(['tat', 'blocked_until'])
        .where('key', '=', key);
      if (tx.dialect === 'postgres') query = query.forUpdate();
      const state = await query.executeTakeFirstOrThrow();
      // Only now is the key ours: with several processes the wait for the lock can be tens of ms.
      const now = timeOf(at);
      return fn(
        tx.db,
        { tat: state.tat === null ? null : Number(state.tat), blocked_until: Number(state.blocked_until) },
        now,
      );
    });
  }

  private async liveSlots(db: Db, key: string, now: number, windowMs: number) {
    await db
      .deleteFrom('rate_limit_slots')
      .where('key', '=', key)
      .where('at', '<=', now - windowMs)
      .execute();
    const rows = await db
      .selectFrom('rate_limit_slots')
      .select(['at', 'n'])
      .where('key', '=', key)
      .orderBy('at')
      .execute();
    const slots = rows.map((r) => ({ at: Number(r.at), n: Number(r.n) }));
    return { slots, used: slots.reduce((sum, r) => sum + r.n, 0) };
  }

  private async take(db: Db, key: string, at: number, n: number): Promise<void> {
    await db
      .insertInto('rate_limit_slots')
      .values({ key, at, n })
      .onConflict((oc) =>
        oc
          .columns(['key', 'at'])
          .doUpdateSet((eb) => ({ n: eb('rate_limit_slots.n', '+', eb.ref('excluded.n')) })),
      )
      .execute();
  }

  acquireWindow(key: string, { limit, windowMs, now: at, cost }: WindowRequest): Promise<Grant> {
    return this.locked(key, at, async (db, state, now) => {
      if (state.blocked_until > now) return { granted: false, retryAfterMs: state.blocked_until - now };
      const { slots, used } = await this.liveSlots(db, key, now, windowMs);
      if (used + cost <= limit) {
        await this.take(db, key, now, cost);
        return { granted: true, remaining: limit - used - cost };
      }
      let mustLeave = used + cost - limit;
      for (const slot of slots) {
        mustLeave -= slot.n;
        if (mustLeave <= 0) return { granted: false, retryAfterMs: slot.at + windowMs - now };
      }
      return { granted: false, retryAfterMs: windowMs };
    });
  }

  reduceWindow(
    key: string,
    { limit, windowMs, now: at, remaining }: Omit<WindowRequest, 'cost'> & { remaining: number },
  ): Promise<void> {
    return this.locked(key, at, async (db, _state, now) => {
      const { used } = await this.liveSlots(db, key, now, windowMs);
      const extra = limit - used - remaining;
      if (extra > 0) await this.take(db, key, now, extra);
    });
  }

  acquireGcra(key: string, { intervalMs, burst, now: at, cost }: GcraRequest): Promise<Grant> {
    return this.locked(key, at, async (db, state, now) => {
      if (state.blocked_until > now) return { granted: false, retryAfterMs: state.blocked_until - now };
      const tolerance = intervalMs * burst;
      const newTat = Math.max(state.tat ?? now, now) + intervalMs * cost;
      const allowAt = newTat - tolerance;
      if (now < allowAt) return { granted: false, retryAfterMs: allowAt - now };
      // Stored as whole ms, rounded up: never lets a request through earlier than the exact GCRA would.
      await db
        .updateTable('rate_limit_state')
        .set({ tat: Math.ceil(newTat) })
        .where('key', '=', key)
        .execute();
      return { granted: true, remaining: Math.floor((now + tolerance - newTat) / intervalMs) };
    });
  }

  reduceGcra(
    key: string,
    { intervalMs, burst, now: at, remaining }: Omit<GcraRequest, 'cost'> & { remaining: number },
  ): Promise<void> {
    return this.locked(key, at, async (db, state, now) => {
      const target = Math.ceil(now + intervalMs * (burst - remaining));
      if (Math.max(state.tat ?? now, now) < target) {
        await db.updateTable('rate_limit_state').set({ tat: target }).where('key', '=', key).execute();
      }
    });
  }

  acquireLease(key: string, { limit, leaseMs, now: at, token }: LeaseRequest): Promise<Grant> {
    return this.locked(key, at, async (db, state, now) => {
      if (state.blocked_until > now) return { granted: false, retryAfterMs: state.blocked_until - now };
      await db
        .deleteFrom('rate_limit_leases')
        .where('key', '=', key)
        .where('expires_at', '<=', now)
        .execute();
      const leases = await db
        .selectFrom('rate_limit_leases')
        .select('expires_at')
        .where('key', '=', key)
        .orderBy('expires_at')
        .execute();
      if (leases.length < limit) {
        await db
          .insertInto('rate_limit_leases')
          .values({ key, token, expires_at: now + leaseMs })
          .execute();
        return { granted: true, remaining: limit - leases.length - 1 };
      }
      return { granted: false, retryAfterMs: Number(leases[0]!.expires_at) - now };
    });
  }

  async releaseLease(key: string, token: string): Promise<void> {
    await this.database.db
      .deleteFrom('rate_limit_leases')
      .where('key', '=', key)
      .where('token', '=', token)
      .execute();
  }

  async block(key: string, until: number): Promise<void> {
    await this.locked(key, until, async (db, state) => {
      if (until > state.blocked_until) {
        await db
          .updateTable('rate_limit_state')
          .set({ blocked_until: Math.ceil(until) })
          .where('key', '=', key)
          .execute();
      }
    });
  }
}
