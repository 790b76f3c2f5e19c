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

export interface Schema {
  jobs: JobsTable;
}
