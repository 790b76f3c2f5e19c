/**
 * Table types for Kysely. Times are integer milliseconds since the epoch (BIGINT on PostgreSQL);
 * JSON is stored as text so both dialects read it the same way; flags are integers 0/1.
 * One interface per table; each area's migrations create its tables.
 */
export interface JobsTable {
  id: string;
  queue: string;
  payload: string;
  /** 'ready' (claimable once `available_at` has passed, including after a lease expires) or 'dead'. */
  state: 'ready' | 'dead';
  /** When the job may next be claimed: its run time, or the end of the current lease. */
  available_at: number;
  attempts: number;
  max_attempts: number;
  /** Set while leased; completing or failing requires the token of the current lease. */
  lease_token: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** `n` rate-limit slots taken at `at` under a limiter key (sliding log). */
export interface RateLimitSlotsTable {
  key: string;
  at: number;
  n: number;
}

export interface RateLimitStateTable {
  key: string;
  /** GCRA theoretical arrival time; null until the key is used as a token bucket. */
  tat: number | null;
  /** No grant before this instant (0 = none). */
  blocked_until: number;
}

export interface RateLimitLeasesTable {
  key: string;
  token: string;
  expires_at: number;
}

export interface CircuitBreakersTable {
  key: string;
  /** A `BreakerSnapshot` as JSON. */
  snapshot: string;
  /** Bumped on every write: the compare-and-set token. */
  version: number;
  updated_at: number;
}

export interface Schema {
  jobs: JobsTable;
  rate_limit_slots: RateLimitSlotsTable;
  rate_limit_state: RateLimitStateTable;
  rate_limit_leases: RateLimitLeasesTable;
  circuit_breakers: CircuitBreakersTable;
}
