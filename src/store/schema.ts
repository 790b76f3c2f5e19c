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
  /** W3C traceparent of the span that stored the event (null when tracing was off). */
  trace_parent: string | null;
}

export type DestinationStatus = 'enabled' | 'disabled';

export interface DestinationsTable {
  id: string;
  /** JSON definition for destinations made through the API, without secrets; null for config ones. */
  definition: string | null;
  /** API destinations: vault ciphertext of `{ secrets, headers }`. */
  secrets: string | null;
  origin: 'config' | 'api' | 'handler';
  status: DestinationStatus;
  disabled_reason: string | null;
  disabled_at: number | null;
  /** Start of the current run of failures; cleared by any success. */
  failing_since: number | null;
  /** 1 once the operator was told of the current failure run (so its end is announced as recovered). */
  failure_alerted: number;
  created_at: number;
  updated_at: number;
}

/**
 * pending: waiting for its next attempt; succeeded: a 2xx was received; failed: dead-lettered (schedule
 * exhausted, destination gone or disabled), replayable.
 */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveriesTable {
  id: string;
  event_id: string;
  destination_id: string;
  status: DeliveryStatus;
  /** Attempts over the delivery's life (numbering of the attempts log). */
  attempts: number;
  /** Attempts since the schedule last (re)started: a replay restarts the schedule. */
  cycle_attempts: number;
  next_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  /** 1 once `delivery.failing` was published for the current cycle. */
  failing_notified: number;
  /** 1 when the next attempt was asked for by hand (its attempt row says trigger=manual). */
  manual: number;
  created_at: number;
  updated_at: number;
  succeeded_at: number | null;
}

export interface DeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  attempt: number;
  trigger: 'scheduled' | 'manual';
  url: string;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  response_headers: string | null;
  /** Cut at 20,000 bytes. */
  response_body: string | null;
  error_code: string | null;
  error_message: string | null;
  outcome: 'succeeded' | 'failed';
}

/** `active`: usable; `needs_reauth`: an operator or user must authorize again; `error`: failing, see the reason. */
export type ConnectionStatus = 'active' | 'needs_reauth' | 'error';

export interface ConnectionsTable {
  id: string;
  /** `custom` or a known provider's name (`hubspot`, `msgraph`…). */
  provider: string;
  base_url: string | null;
  /** `bearer`, `api-key`, `basic`, `oauth2-client-credentials`, `oauth2-authorization-code`. */
  auth_scheme: string;
  /** The scheme's settings that are not secret, as JSON (header name, token URL, client id, scopes…). */
  auth_config: string;
  /** Vault ciphertext of the scheme's secrets (token, key, password, client secret) as JSON. */
  secrets: string | null;
  /** Vault ciphertext of the current token set (access and refresh tokens) as JSON. */
  credentials: string | null;
  /** When the current access token expires (ms), if it does. */
  expires_at: number | null;
  /** Bumped by every change of `credentials` or `secrets`; refreshes compare-and-swap on it. */
  credential_version: number;
  /** Owner of the cross-process refresh lock, while one process refreshes. */
  refresh_lock: string | null;
  refresh_lock_until: number | null;
  status: ConnectionStatus;
  status_reason: string | null;
  /** Free-form JSON the user attaches (never secret). */
  metadata: string;
  origin: 'config' | 'api';
  created_at: number;
  updated_at: number;
  refreshed_at: number | null;
}

export interface OauthStatesTable {
  /** SHA-256 (hex) of the `state` parameter. */
  id: string;
  connection_id: string;
  /** Vault ciphertext of `{ codeVerifier }`. */
  secrets: string;
  redirect_uri: string;
  /** Where the callback sends the browser afterwards, chosen by the operator who started the flow. */
  return_to: string | null;
  created_at: number;
  expires_at: number;
}

export interface EncryptionKeysTable {
  /** The key id recorded in every ciphertext it made. */
  id: string;
  /** A known value encrypted with the key: proves at start-up that a configured key is the right one. */
  check_value: string;
  /**
   * `primary` encrypts new data; `previous` was primary and may still hold data until the rotation
   * ends; `standby` is configured somewhere but never encrypted anything; `retired` holds no data.
   * Start-up requires the `primary` and `previous` keys.
   */
  status: 'primary' | 'previous' | 'standby' | 'retired';
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

/** A webhook source made through the admin API. */
export interface SourcesTable {
  id: string;
  /** The source's definition as JSON, its secrets left out. */
  definition: string;
  /** Vault ciphertext of the JSON array of secrets. */
  secrets: string;
  created_at: number;
  updated_at: number;
}

/** One row per sync: committed progress, the lease (its token fences commits), what is asked of it. */
export interface SyncStateTable {
  id: string;
  paused: number;
  /** The incremental read's checkpoint (JSON), committed with each page. */
  checkpoint: string | null;
  /** 1 while a full read is wanted or under way (it resumes until complete). */
  full_pending: number;
  /** The full read's own checkpoint (JSON) while it is under way. */
  full_checkpoint: string | null;
  full_started_at: number | null;
  /** Mark generation: bumped when a full read starts; every record seen since carries it. */
  generation: number;
  /** Set once a complete full read's deletes may go: records seen before this generation are deleted. */
  sweep_generation: number | null;
  /** Deletes held by the safety valve: of this generation, how many, out of how many live records. */
  held_generation: number | null;
  held_count: number | null;
  held_live: number | null;
  held_at: number | null;
  /** Largest `updated_at` stamped on a record: stamps only grow, so keyset reads of changes miss none. */
  high_water: number;
  lease_owner: string | null;
  /** Fencing token: bumped by every acquisition; a commit names the token it holds. */
  lease_token: number;
  lease_until: number | null;
  requested_at: number | null;
  requested_mode: 'incremental' | 'full' | null;
  requested_trigger: string | null;
  next_run_at: number | null;
  last_run_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface SyncRunsTable {
  id: string;
  sync_id: string;
  mode: 'incremental' | 'full' | 'verify';
  /** `schedule`, `manual`, `event`, `resume`, `write`, `confirm`. */
  trigger: string;
  /** `running`, `succeeded`, `failed`, `timed_out`, `interrupted` (the runner stopped or lost its lease). */
  status: string;
  lease_token: number;
  started_at: number;
  finished_at: number | null;
  pages: number;
  seen: number;
  created: number;
  updated: number;
  deleted: number;
  quarantined: number;
  pushed: number;
  push_failed: number;
  conflicts: number;
  deletes_held: number;
  error_code: string | null;
  error: string | null;
  /** What the run found, as JSON (a verify's report; notes such as "full read incomplete"). */
  report: string | null;
}

export interface SyncRecordsTable {
  sync_id: string;
  external_id: string;
  /** Canonical (key-sorted) JSON of the record. */
  data: string;
  /** Hash of the canonical JSON minus the model's volatile fields. */
  hash: string;
  /** Bumped by every change (new hash, delete, return): part of the change events' idempotency key. */
  revision: number;
  /** The source's modification time of the record, when the model says where it is. */
  modified_at: number | null;
  first_seen_at: number;
  last_seen_at: number;
  /** Moves only when the record changes (hash, delete, return). */
  updated_at: number;
  deleted_at: number | null;
  seen_generation: number;
}

/** `pending` (to push), `failed` (refused for good), `conflict` (waits in the conflict queue), `pushed`, `superseded`. */
export type SyncChangeStatus = 'pending' | 'failed' | 'conflict' | 'pushed' | 'superseded';

export interface SyncChangesTable {
  id: string;
  sync_id: string;
  external_id: string;
  /** The wanted record (JSON), null for a delete. */
  data: string | null;
  /** The stored record when the change was written; null when there was none. */
  base_data: string | null;
  base_hash: string | null;
  idempotency_key: string;
  status: SyncChangeStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
  written_at: number;
  updated_at: number;
}

export interface SyncQuarantineTable {
  id: string;
  sync_id: string;
  external_id: string | null;
  run_id: string | null;
  /** Where the record failed: `transform`, `key`, or the field path the schema refused. */
  error_path: string;
  error: string;
  /** The record as the provider sent it (JSON). */
  raw: string;
  /** `open`, `resolved` (stored after a retry), `discarded`, `superseded` (a newer version was stored). */
  status: string;
  retries: number;
  created_at: number;
  updated_at: number;
}

export interface SyncConflictsTable {
  id: string;
  sync_id: string;
  external_id: string;
  change_id: string;
  local_data: string | null;
  source_data: string | null;
  base_data: string | null;
  source_hash: string | null;
  /** `open` or `resolved`. */
  status: string;
  /** `local`, `source` or `merged`. */
  resolution: string | null;
  created_at: number;
  updated_at: number;
}

export interface SyncVerifyKeysTable {
  verify_id: string;
  external_id: string;
  hash: string;
}

export interface SendLedgerTable {
  /** Whose writes (a connection: `sendgrid:mail`). */
  scope: string;
  /** The caller's idempotency key. */
  key: string;
  /** `pending` (an attempt is or was in flight: its outcome is unknown until settled) or `done`. */
  state: 'pending' | 'done';
  /** When the current attempt started; compare-and-set guard for retaking it. */
  attempt_at: number;
  attempts: number;
  /** JSON of what the write produced (SendGrid's message id). */
  result: string | null;
  created_at: number;
  updated_at: number;
}

/** What crossed an operational threshold, for `doctor` (see migration 0012). */
export interface OpsSignalsTable {
  id: string;
  /** `loop_block` (value: ms the event loop was held) or `rate_limited` (value: the status, 429). */
  kind: string;
  /** What it is attributed to: `handler:<destination id>`, `transform:<sync id>`, `connection:<id>`. */
  subject: string;
  at: number;
  value: number;
}

/** One process's totals for a source or a connection in one minute (see migration 0013). */
export interface TrafficTable {
  /** `source` or `connection`. */
  kind: string;
  subject: string;
  /** Epoch minute (ms / 60 000). */
  minute: number;
  /** The process that counted them. */
  process: string;
  /** Requests accepted, or calls answered. */
  ok: number;
  /** Requests refused or failed, or calls that failed. */
  failed: number;
  /** Calls answered 429. */
  limited: number;
  /** JSON `{ reason code: count }` of the failures. */
  reasons: string;
  /** JSON array of counts per latency bucket (`TRAFFIC_BUCKETS_MS`). */
  buckets: string;
  duration_max: number;
  last_ok_at: number | null;
  /** The share of the provider's quota left, 0–1, as last seen. */
  headroom: number | null;
  headroom_at: number | null;
}

export interface Schema {
  jobs: JobsTable;
  events: EventsTable;
  destinations: DestinationsTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  connections: ConnectionsTable;
  oauth_states: OauthStatesTable;
  encryption_keys: EncryptionKeysTable;
  rate_limit_slots: RateLimitSlotsTable;
  rate_limit_state: RateLimitStateTable;
  rate_limit_leases: RateLimitLeasesTable;
  circuit_breakers: CircuitBreakersTable;
  sources: SourcesTable;
  send_ledger: SendLedgerTable;
  sync_state: SyncStateTable;
  sync_runs: SyncRunsTable;
  sync_records: SyncRecordsTable;
  sync_changes: SyncChangesTable;
  sync_quarantine: SyncQuarantineTable;
  sync_conflicts: SyncConflictsTable;
  sync_verify_keys: SyncVerifyKeysTable;
  ops_signals: OpsSignalsTable;
  traffic: TrafficTable;
}
