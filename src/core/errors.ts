/**
 * Every error Patchbay throws is a `PatchbayError` with a stable `code`. Callers decide on the code and
 * on the data the error carries (`status`, `retryAfterMs`, …), never on the message text.
 */
export const ErrorCode = {
  // configuration and input
  CONFIG_INVALID: 'CONFIG_INVALID',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  // the server's own limits and request rules (docs/security.md)
  /** A limit of the server (connections, request bodies in flight) is reached: try again shortly. */
  OVERLOADED: 'OVERLOADED',
  /** The request's headers or body did not arrive in time. */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** The request headers are larger than the server reads. */
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  /** The `Host` header names a host the admin API is not configured for (DNS rebinding). */
  HOST_NOT_ALLOWED: 'HOST_NOT_ALLOWED',
  /** A cross-origin request (foreign `Origin`, a CORS preflight) to the admin API. */
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  /** A state-changing admin request without a JSON content type. */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  // storage
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  LEASE_LOST: 'LEASE_LOST',
  // outbound calls
  TIMEOUT: 'TIMEOUT',
  RATE_LIMITED: 'RATE_LIMITED',
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
  BULKHEAD_FULL: 'BULKHEAD_FULL',
  /** The adaptive throttle held a call back: the upstream accepted too few of the recent ones. */
  THROTTLED: 'THROTTLED',
  HTTP_CLIENT_ERROR: 'HTTP_CLIENT_ERROR',
  HTTP_SERVER_ERROR: 'HTTP_SERVER_ERROR',
  HTTP_REDIRECT: 'HTTP_REDIRECT',
  /** A mail server answered an SMTP command with a 4xx or 5xx reply (the reply is in the message). */
  MAIL_REJECTED: 'MAIL_REJECTED',
  AUTH_FAILED: 'AUTH_FAILED',
  NETWORK_ERROR: 'NETWORK_ERROR',
  RETRIES_EXHAUSTED: 'RETRIES_EXHAUSTED',
  ABORTED: 'ABORTED',
  INSECURE_URL: 'INSECURE_URL',
  SSRF_BLOCKED: 'SSRF_BLOCKED',
  RESPONSE_INVALID: 'RESPONSE_INVALID',
  /** A streamed response is larger than the caller allowed (`HttpRequest.maxBodyBytes`). */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** Some items of a batch failed (a 207, or per-item errors in a 2xx); the rest succeeded. */
  PARTIAL: 'PARTIAL',
  // syncs
  /** A sync's provider no longer accepts the cursor it was given (HubSpot's stale `after`, Graph's 410). */
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
  // connectors
  /** A write named properties the provider does not have (HubSpot `PROPERTY_DOESNT_EXIST`). */
  UNKNOWN_PROPERTIES: 'UNKNOWN_PROPERTIES',
  /** A record already has as many associations of a kind as the provider allows. */
  ASSOCIATION_LIMIT: 'ASSOCIATION_LIMIT',
  /**
   * A write that may or may not have reached the provider (a crash or a lost answer) is not settled
   * yet; `retryAfterMs` says when to ask again. Retrying is safe: it looks before writing again.
   */
  OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
  /** The provider refused a call for a permission the app was not granted (Graph: Mail.Send without admin consent). */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  // webhooks
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  SIGNATURE_MISSING: 'SIGNATURE_MISSING',
  TIMESTAMP_OUT_OF_RANGE: 'TIMESTAMP_OUT_OF_RANGE',
  PAYLOAD_INVALID: 'PAYLOAD_INVALID',
  // credentials
  ENCRYPTION_KEY_INVALID: 'ENCRYPTION_KEY_INVALID',
  DECRYPTION_FAILED: 'DECRYPTION_FAILED',
  NEEDS_REAUTH: 'NEEDS_REAUTH',
  OAUTH_ERROR: 'OAUTH_ERROR',
  // delivery
  /** An in-process handler (`engine.on`) threw. */
  HANDLER_ERROR: 'HANDLER_ERROR',
  // anything else: a bug in Patchbay
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * How a failed call is to be treated, when the place that understood the failure decided it (a
 * response's status, a breaker, a limiter's deadline); `classifyError` in `resilience/` takes it as is.
 */
export type FailureClassification = 'transient' | 'permanent' | 'auth' | 'partial';

/** The decisions an error carries, typed: a caller reads these fields, never a bag of flags. */
export interface ErrorDecisions {
  classification?: FailureClassification;
  /** The error is an upstream's answer (an HTTP response), not a failure on our side of the wire. */
  fromUpstream?: boolean;
  /** The request provably never left (connection refused, DNS): safe to retry even a POST. */
  notSent?: boolean;
  /** The OAuth `error` the server answered (`invalid_grant`…), when it gave one. */
  oauthError?: string;
  /** No encryption key is configured, and the store holds no secret yet: `start` will generate one. */
  keyCanBeGenerated?: boolean;
}

export interface PatchbayErrorDetails extends ErrorDecisions {
  cause?: unknown;
  /** HTTP status of the upstream response, when there was one. */
  status?: number;
  /** How long the upstream asked us to wait, in ms, when it said. */
  retryAfterMs?: number;
  /** Upstream response headers (already redacted). */
  headers?: Record<string, string>;
  /** Upstream response body, truncated (see `truncateBody`). */
  body?: string;
  /** Context for people and logs (ids, limits, the network code); nothing decides on it. Never a secret. */
  data?: ErrorContext;
}

/**
 * An error's `data`: anything for people and logs, but never a decision — a decision named here
 * (`data: { classification: 'permanent' }`) does not compile, since no caller would read it there.
 */
export type ErrorContext = Readonly<Record<string, unknown>> & {
  readonly [K in keyof ErrorDecisions]?: never;
};

const MARKER = Symbol.for('patchbay.error');

export class PatchbayError extends Error {
  override readonly name = 'PatchbayError';
  readonly code: ErrorCode;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly data?: ErrorContext;
  readonly classification?: FailureClassification;
  readonly fromUpstream?: boolean;
  readonly notSent?: boolean;
  readonly oauthError?: string;
  readonly keyCanBeGenerated?: boolean;
  readonly [MARKER] = true;

  constructor(code: ErrorCode, message: string, details: PatchbayErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.headers !== undefined) this.headers = details.headers;
    if (details.body !== undefined) this.body = details.body;
    if (details.data !== undefined) this.data = details.data;
    if (details.classification !== undefined) this.classification = details.classification;
    if (details.fromUpstream !== undefined) this.fromUpstream = details.fromUpstream;
    if (details.notSent !== undefined) this.notSent = details.notSent;
    if (details.oauthError !== undefined) this.oauthError = details.oauthError;
    if (details.keyCanBeGenerated !== undefined) this.keyCanBeGenerated = details.keyCanBeGenerated;
  }

  /** Works across copies of the package (two versions installed side by side). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.status !== undefined && { status: this.status }),
      ...(this.retryAfterMs !== undefined && { retryAfterMs: this.retryAfterMs }),
      ...(this.classification !== undefined && { classification: this.classification }),
      ...(this.oauthError !== undefined && { oauthError: this.oauthError }),
      ...(this.data !== undefined && { data: this.data }),
    };
  }
}

export function isPatchbayError(value: unknown, code?: ErrorCode): value is PatchbayError {
  return value instanceof PatchbayError && (code === undefined || value.code === code);
}

/** The message of anything thrown, for logs and one-line CLI output. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

const BODY_LIMIT = 2048;

/** Keeps error bodies small: enough to diagnose, never a whole payload in a log line. */
export function truncateBody(body: string, limit = BODY_LIMIT): string {
  return body.length <= limit ? body : `${body.slice(0, limit)}… (${body.length - limit} more chars)`;
}
