import { storedHeaders } from '../stored-headers.js';
import { schemeDefinition } from './schemes.js';
import type {
  HandshakeResponse,
  HeaderInput,
  ParseEventsResult,
  VerifierConfig,
  VerifyResult,
  WebhookRequest,
  WebhookSchemeName,
  WebhookSchemeOptions,
} from './types.js';
import {
  handshakeNormalized,
  normalize,
  parseNormalized,
  type TimedWebhookRequest,
  WebhookVerifier,
} from './verifier.js';

export interface VerifyWebhookInput extends TimedWebhookRequest {
  secrets: VerifierConfig['secrets'];
  toleranceMs?: number;
  options?: WebhookSchemeOptions;
}

/**
 * Verifies one request in one call. For a long-lived source prefer `createWebhookVerifier`, which checks
 * secrets and options once. Throws only on misuse (unknown scheme, bad secret or option, a parsed body).
 */
export function verifyWebhook(scheme: WebhookSchemeName, input: VerifyWebhookInput): VerifyResult {
  const { secrets, toleranceMs, options, ...request } = input;
  return new WebhookVerifier(scheme, {
    secrets,
    ...(toleranceMs !== undefined && { toleranceMs }),
    ...(options !== undefined && { options }),
  }).verify(request);
}

export interface ParseEventsInput extends WebhookRequest {
  options?: WebhookSchemeOptions;
}

/** The events of a request that already passed `verifyWebhook`. Pure; a malformed body is a result, not a throw. */
export function parseEvents(scheme: WebhookSchemeName, input: ParseEventsInput): ParseEventsResult {
  return parseNormalized(schemeDefinition(scheme), normalize(input), input.options ?? {});
}

/**
 * The immediate answer a request asks for — Graph's validation token (before verification: it is
 * unsigned) or Slack's url_verification challenge (answer only after `verifyWebhook` succeeded) — or
 * `undefined`. `schemeInfo(scheme).handshake` says which.
 */
export function handshake(scheme: WebhookSchemeName, request: WebhookRequest): HandshakeResponse | undefined {
  return handshakeNormalized(schemeDefinition(scheme), normalize(request));
}

/**
 * The request's headers fit to store: one string per name (lower case), without credentials
 * (`Authorization`, `Cookie`, `X-Api-Key`…, see `stored-headers.ts`), the headers that carry the scheme's
 * signatures, and `signatureHeaders` (a configured one, such as `hmac-sha256`'s `header`).
 */
export function headersToStore(
  scheme: WebhookSchemeName,
  headers: HeaderInput,
  signatureHeaders: readonly string[] = [],
): Record<string, string> {
  return storedHeaders(headers, [...schemeDefinition(scheme).info.secretHeaders, ...signatureHeaders]);
}
