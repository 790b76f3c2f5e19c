/**
 * The public shapes of inbound webhook verification. Everything here is runtime-neutral data: no Node
 * stream, no framework request object, so the same verifier serves Fastify, Express, a Lambda or a test.
 */

/** The schemes Patchbay verifies; the names match `sources[].verify.scheme` in the configuration. */
export type WebhookSchemeName =
  | 'standard-webhooks'
  | 'github'
  | 'stripe'
  | 'hubspot-v1'
  | 'hubspot-v2'
  | 'hubspot-v3'
  | 'slack'
  | 'msgraph'
  | 'sendgrid'
  | 'hmac-sha256'
  | 'none';

/** Request bytes exactly as received. A string is taken as its UTF-8 encoding. */
export type RawBody = Buffer | Uint8Array | string;

/** A header value as Node (`IncomingHttpHeaders`) or a framework gives it; arrays mean "sent more than once". */
export type HeaderValue = string | number | readonly string[] | undefined;

/**
 * Request headers: a plain record (any letter case; Node's `req.headers` fits) or a fetch `Headers`-like
 * object. A name present twice (an array of two values, or two keys differing only in case) is "repeated"
 * and fails closed wherever the scheme reads it.
 */
export type HeaderInput =
  | Readonly<Record<string, HeaderValue>>
  | { forEach(callback: (value: string, name: string) => void): void; get(name: string): string | null };

/** What a request looks like to a verifier. */
export interface WebhookRequest {
  rawBody: RawBody;
  headers: HeaderInput;
  /**
   * The request URL: absolute (`https://host/path?q`) or as received on the wire (`/path?q`), which is then
   * joined to `options.publicUrl`. Needed by `hubspot-v2`/`hubspot-v3` (they sign it) and `msgraph`
   * (the validation token is in the query).
   */
  url?: string;
  /** HTTP method. Defaults to `POST`. */
  method?: string;
}

export type WebhookEncoding = 'hex' | 'base64';

/**
 * Scheme options. The keys match `sources[].verify` in the configuration, so a source's `verify` block can
 * be passed as it is; keys a scheme does not use are ignored.
 */
export interface WebhookSchemeOptions {
  /** `hubspot-v2`/`hubspot-v3`: the URL the provider calls, as it sees it (see `docs/webhook-verification.md`). */
  publicUrl?: string;
  /** `none`: must be `true`, to say out loud that unsigned requests are accepted. */
  insecure?: boolean;
  /** `hmac-sha256`: the header holding the signature. Required for that scheme. */
  header?: string;
  /** `hmac-sha256`: how the signature is written. Defaults to `hex`. */
  encoding?: WebhookEncoding;
  /** `hmac-sha256`: text before the signature, e.g. `sha256=`. Defaults to none. */
  prefix?: string;
  /** `hmac-sha256`: a header with the signing time; when set it is required and checked against the window. */
  timestampHeader?: string;
  /** `hmac-sha256`: unit of `timestampHeader`. Defaults to `seconds`. */
  timestampUnit?: 'seconds' | 'milliseconds';
  /**
   * `hmac-sha256`: what is signed, with `{timestamp}`, `{id}` and `{body}` (exactly once) as placeholders.
   * Defaults to `{timestamp}.{body}` with a `timestampHeader`, else `{body}`.
   */
  signedContent?: string;
  /** `hmac-sha256`/`none`: header holding the sender's event id. Defaults to `webhook-id`, then `x-request-id`. */
  idHeader?: string;
  /**
   * `hmac-sha256`/`none`: where the event type is: a dotted JSON path (`data.event.kind`) or `header:<name>`.
   * Defaults to the body's top-level `type` field. A type that cannot be found is `unknown`.
   */
  typePath?: string;
}

export interface VerifierConfig {
  /**
   * Every secret currently accepted (rotation: old and new at once). What a secret is depends on the
   * scheme: a `whsec_…` key or `whpk_…` ed25519 public key for `standard-webhooks`, the `clientState` for
   * `msgraph`, the shared signing secret otherwise. Ignored by `none`.
   */
  secrets: readonly string[];
  /** Accepted distance between a signed timestamp and now, in ms, both directions. Defaults to the scheme's (5 min). */
  toleranceMs?: number;
  options?: WebhookSchemeOptions;
  /** Time source in ms, for the replay window. Defaults to `Date.now`. A per-request `now` wins. */
  now?: () => number;
}

export type WebhookFailureCode =
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'TIMESTAMP_OUT_OF_RANGE'
  | 'PAYLOAD_INVALID';

/** A rejected request. `reason` is one line for logs and the 4xx body; it never holds a secret or an expected signature. */
export interface WebhookFailure {
  ok: false;
  code: WebhookFailureCode;
  reason: string;
  /** The HTTP status an ingress should answer: 401 for signature and timestamp failures, 400 for payloads. */
  status: 400 | 401;
}

export interface VerifySuccess {
  ok: true;
  scheme: WebhookSchemeName;
  /** Index in `secrets` of the secret that matched (-1 for `none`): shows when an old secret can be retired. */
  secretIndex: number;
  /** The signed timestamp, in ms since the epoch, when the scheme has one. */
  timestamp?: number;
}

export type VerifyResult = VerifySuccess | WebhookFailure;

/** One event from a webhook request, ready for the event log. */
export interface WebhookEvent {
  /** The sender's id for this event: the dedupe key together with the source. At most 255 characters. */
  externalId: string;
  /** Event type, already fitting the event log's grammar (`[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}`). */
  type: string;
  /** The parsed event (JSON value). Fields that are secrets (Graph's `clientState`) are removed. */
  payload: unknown;
  /** When the sender says the event happened, in ms since the epoch. */
  occurredAt?: number;
}

export type ParseEventsResult = { ok: true; events: WebhookEvent[] } | WebhookFailure;

/** An answer an ingress sends at once instead of storing events (Graph validation, Slack url_verification). */
export interface HandshakeResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Everything an ingress needs from one request, in the right order (see `receiveWebhook`). */
export type ReceiveResult =
  | { kind: 'handshake'; response: HandshakeResponse }
  | { kind: 'events'; verification: VerifySuccess; events: WebhookEvent[] }
  | { kind: 'rejected'; failure: WebhookFailure };

/** Static facts about a scheme. */
export interface WebhookSchemeInfo {
  name: WebhookSchemeName;
  /** Lower-case header names that carry signatures: strip them before storing a request's headers. */
  secretHeaders: readonly string[];
  /** Default replay window in ms, or `undefined` when the scheme signs no timestamp. */
  defaultToleranceMs: number | undefined;
  /**
   * When `handshake()` may answer: `before-verify` (Graph: its validation request is unsigned),
   * `after-verify` (Slack: the challenge is signed like any request), or `never`.
   */
  handshake: 'before-verify' | 'after-verify' | 'never';
  /** Whether the scheme needs at least one secret. */
  requiresSecrets: boolean;
  /** Whether a request is authenticated at all (`none`: anyone who reaches the URL can post). */
  authenticates: boolean;
  /** The 2xx an accepted request is answered with (Graph asks for 202, the others take 200). */
  acceptedStatus: 200 | 202;
  /**
   * Whether the request bytes may be stored as the event when a request holds one event. `false` when
   * the body carries a secret `parse` removes (Graph's `clientState`): the parsed payload is stored.
   */
  storesRawBody: boolean;
}
