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

export interface EventsTable {
  id: string;
  /** Source id (`gh`), `api` for published events, `patchbay` for operational events. */
  source: string;
  /** The sender's id for the event; unique per source (dedupe). */
  external_id: string;
  type: string;
  /** Request headers as JSON, signature and auth headers removed. */
  headers: string;
  /** The event's bytes: the exact request body, or one element of a batched request. */
  body: Buffer;
  content_type: string | null;
  /** Id shared by the events split out of one request (HubSpot arrays, Graph `value[]`). */
  request_id: string | null;
  /** How the event was verified: `<scheme>` on success, `unverified` for scheme none, `api` for publish. */
  verification: string;
  received_at: number;
  occurred_at: number | null;
  /** Times the sender repeated it after the first (never stored or routed again). */
  duplicates: number;
  last_duplicate_at: number | null;
}

export interface Schema {
  jobs: JobsTable;
  events: EventsTable;
}
