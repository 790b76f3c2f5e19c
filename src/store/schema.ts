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
}
