import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { BreakerSnapshot } from './breaker-state.js';

/**
 * Where breakers keep their state so all processes agree. `MemoryBreakerStateStore` shares it within
 * one process; `patchbay`'s store module has SQL (SQLite, PostgreSQL) and Redis implementations.
 */
export interface BreakerStateStore {
  /**
   * Atomically replaces the record under `key` with `mutate(current)` and resolves to what is stored.
   * `mutate` must be pure: it runs again when another process changed the record in between.
   * Returning `current` itself (same object) means "no change" and skips the write.
   */
  update(
    key: string,
    mutate: (current: BreakerSnapshot | undefined) => BreakerSnapshot,
    signal?: AbortSignal,
  ): Promise<BreakerSnapshot>;
}

export class MemoryBreakerStateStore implements BreakerStateStore {
  private readonly records = new Map<string, BreakerSnapshot>();

  async update(key: string, mutate: (current: BreakerSnapshot | undefined) => BreakerSnapshot) {
    const current = this.records.get(key);
    const next = mutate(current);
    if (next !== current) this.records.set(key, next);
    return next;
  }
}

/** A stored value and the token that proves nobody changed it since it was read. */
export interface Versioned<V, T> {
  value: V;
  version: T;
}

/**
 * The optimistic loop every shared adapter uses: read, mutate, write only if the version is unchanged,
 * else read again. Contention on one breaker is rare (writes happen on failures and state changes).
 */
export async function compareAndSetLoop<V, T>(
  read: () => Promise<Versioned<V, T> | undefined>,
  write: (expected: Versioned<V, T> | undefined, next: V) => Promise<boolean>,
  mutate: (current: V | undefined) => V,
  maxTries = 50,
): Promise<V> {
  for (let i = 0; i < maxTries; i++) {
    const current = await read();
    const next = mutate(current?.value);
    if (current !== undefined && next === current.value) return next;
    if (await write(current, next)) return next;
  }
  throw new PatchbayError(
    ErrorCode.STORE_UNAVAILABLE,
    `breaker state kept changing under ${maxTries} concurrent writers`,
  );
}
