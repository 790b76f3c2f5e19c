import { abortError } from '../core/clock.js';
import { ErrorCode, errorMessage, PatchbayError, truncateBody } from '../core/errors.js';
import { redactHeaders, redactUrl, scrubSecrets } from '../core/redact.js';
import type { Classification } from '../resilience/classification.js';
import {
  errorCodeForStatus,
  errorCodeOf,
  NOT_SENT_CODES,
  TRANSIENT_NETWORK_CODES,
} from '../resilience/classification.js';
import { retryDelayFromHeaders } from '../resilience/retry-after.js';
import type { CallState, HttpCall } from './http-types.js';
import type { UpstreamErrorReading } from './upstream-error.js';

/** The URL as it may appear in a message or a log line: secret query values and userinfo replaced. */
export function safeUrl(url: URL, state: CallState): string {
  return redactUrl(url.toString(), state.secretParams);
}

/**
 * The error for an answer that is not a success. It carries what a caller decides on: status,
 * redacted headers, the upstream's requested wait and a truncated, scrubbed body. The classification
 * (possibly a connector's override) rides along in `data` so every policy decides the same way.
 */
export function errorFromResponse(
  call: HttpCall,
  status: number,
  headers: Record<string, string>,
  text: string,
  classification: Classification,
  now: number,
  reading?: UpstreamErrorReading,
): PatchbayError {
  // The provider's reader knows its words better than the generic header rules (HubSpot's interval
  // headers say 0 left, and the reader says when to come back).
  const retryAfterMs = reading?.retryAfterMs ?? retryDelayFromHeaders(headers, now);
  const code = errorCodeForStatus(status);
  const body = truncateBody(scrubSecrets(text, call.state.secrets));
  const said = reading?.message
    ? `: ${truncateBody(scrubSecrets(reading.message, call.state.secrets), MESSAGE_LIMIT)}`
    : '';
  return new PatchbayError(
    code,
    `${call.method} ${safeUrl(call.url, call.state)} answered ${status}${said}`,
    {
      status,
      headers: redactHeaders(headers),
      body,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
      ...(classification !== 'success' && { classification }),
      fromUpstream: true,
      ...((reading?.code !== undefined || reading?.details !== undefined) && {
        data: {
          ...(reading?.code !== undefined && { upstreamCode: reading.code }),
          ...(reading?.details !== undefined && { upstream: reading.details }),
        },
      }),
    },
  );
}

/** The provider's words in a message stay short: the whole body is on the error already. */
const MESSAGE_LIMIT = 300;

/**
 * The error for a request that got no answer. Timeouts and aborts keep their own codes; a connection
 * failure is `NETWORK_ERROR` with `notSent` when the request provably never left (connection
 * refused, DNS), which makes even a POST safe to retry.
 */
export function errorFromFailure(call: HttpCall, error: unknown): PatchbayError {
  if (call.signal.aborted) return abortError(call.signal);
  if (error instanceof PatchbayError) return error;
  const code = errorCodeOf(error);
  const where = `${call.method} ${safeUrl(call.url, call.state)}`;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new PatchbayError(ErrorCode.TIMEOUT, `${where}: the upstream stopped answering`, {
      cause: error,
      data: { networkCode: code },
    });
  }
  const message = scrubSecrets(errorMessage(error), call.state.secrets);
  return new PatchbayError(ErrorCode.NETWORK_ERROR, `${where} failed: ${message}`, {
    cause: error,
    classification: code !== undefined && TRANSIENT_NETWORK_CODES.has(code) ? 'transient' : 'permanent',
    notSent: code !== undefined && NOT_SENT_CODES.has(code),
    data: { networkCode: code ?? 'UNKNOWN' },
  });
}
