import type { RequestHeaders } from './request-headers.js';
import type { HandshakeResponse, WebhookEvent, WebhookSchemeInfo, WebhookSchemeOptions } from './types.js';

/** One request as every scheme sees it, after the public entry points normalised the input. */
export interface SchemeRequest {
  body: Buffer;
  headers: RequestHeaders;
  url: string | undefined;
  /** Upper case. */
  method: string;
}

export interface VerifyContext extends SchemeRequest {
  now: number;
  toleranceMs: number;
}

export interface Verified {
  secretIndex: number;
  timestamp?: number;
}

/** Verifies one request with keys prepared once; throws a `Rejection` on failure. */
export type PreparedVerify = (ctx: VerifyContext) => Verified;

/**
 * A verification scheme, pluggable as an object. `prepare` validates secrets and options eagerly (a
 * `PatchbayError` naming the bad option, never echoing a secret) and returns the per-request check.
 * `parse` and `handshake` are pure and run on bytes that already passed `verify`.
 */
export interface SchemeDefinition {
  info: WebhookSchemeInfo;
  prepare(secrets: readonly string[], options: WebhookSchemeOptions): PreparedVerify;
  parse(request: SchemeRequest, options: WebhookSchemeOptions): WebhookEvent[];
  handshake?(request: SchemeRequest): HandshakeResponse | undefined;
}

/** Five minutes, the window every timestamped scheme documents. */
export const FIVE_MINUTES = 300_000;
