import { RequestHeaders } from './verify/request-headers.js';
import type { HeaderInput } from './verify/types.js';

/**
 * Headers that carry a credential on their own: whatever a sender, a proxy in front of Patchbay or a
 * misconfigured client puts there must not end up in the event log (and its WAL), the admin API or
 * `patchbay events show`.
 */
export const CREDENTIAL_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'x-auth-token',
  'x-access-token',
  'x-amz-security-token',
  'x-csrf-token',
  'x-xsrf-token',
];

/**
 * Names that look like they hold one (`x-session-token`, `x-client-secret`, `x-acme-signature`,
 * `x-forwarded-authorization`): stripped too, since a kept secret costs more than a dropped header.
 */
const CREDENTIAL_LIKE = /auth|token|secret|passw|api-?key|signature|session|cookie|credential|bearer/i;

const CREDENTIALS = new Set(CREDENTIAL_HEADERS);

/** Whether a header is never stored, whatever the source. */
export function isCredentialHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return CREDENTIALS.has(lower) || CREDENTIAL_LIKE.test(lower);
}

/**
 * The headers of a request as stored with its events: one string per lower-case name, without the
 * credential headers above and without `signatureHeaders` (the source's scheme's and any configured one,
 * e.g. `hmac-sha256`'s `header`). Everything else — content type, the provider's event and delivery
 * headers, user agent, forwarding headers — is kept, for debugging and replay.
 */
export function storedHeaders(
  headers: HeaderInput,
  signatureHeaders: Iterable<string> = [],
): Record<string, string> {
  const kept = new RequestHeaders(headers).entries(
    new Set([...signatureHeaders].map((h) => h.toLowerCase())),
  );
  for (const name of Object.keys(kept)) if (isCredentialHeader(name)) delete kept[name];
  return kept;
}
