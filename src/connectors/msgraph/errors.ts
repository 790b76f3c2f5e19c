import { z } from 'zod';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { parseJsonBody, type UpstreamErrorReader } from '../../http/upstream-error.js';

/** Graph's error body (errors.md): `{ error: { code, message, innerError: { request-id, date } } }`. */
const errorBody = z.object({
  error: z
    .object({
      code: z.string().optional(),
      message: z.string().optional(),
      innerError: z.record(z.string(), z.unknown()).optional(),
    })
    .loose(),
});

/**
 * Reads Graph's error answers into the error's message and code (`ErrorItemNotFound`,
 * `SyncStateNotFound`, `ApplicationThrottled`…) and the ids Microsoft support asks for. The waits come
 * from `Retry-After` (seconds, fractional: the shared header reader); the statuses decide retrying.
 */
export const graphErrorReader: UpstreamErrorReader = ({ body }) => {
  const parsed = errorBody.safeParse(parseJsonBody(body));
  if (!parsed.success) return undefined;
  const { code, message, innerError } = parsed.data.error;
  const details: Record<string, string> = {};
  for (const key of ['request-id', 'client-request-id', 'date'] as const) {
    const value = innerError?.[key];
    if (typeof value === 'string') details[key] = value;
  }
  return {
    ...(message !== undefined && { message }),
    ...(code !== undefined && { code }),
    details,
  };
};

/** Graph's code for an error Patchbay raised from one of its answers, when it read one. */
export function graphCodeOf(error: unknown): string | undefined {
  if (!(error instanceof PatchbayError)) return undefined;
  const code = error.data?.upstreamCode;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A send Graph refused for a permission: `ErrorAccessDenied` (the app has no Mail.Send application
 * permission with admin consent, or an application access policy keeps it from this mailbox) or
 * `ErrorSendAsDenied` (the mailbox may not send as the `from` address). Retrying cannot help.
 */
export function sendRefused(mailbox: string, from: string | undefined, cause: PatchbayError): PatchbayError {
  const code = graphCodeOf(cause);
  const message =
    code === 'ErrorSendAsDenied'
      ? `Graph refused to send from ${mailbox} as ${from ?? 'another address'} (ErrorSendAsDenied): grant the mailbox Send As on that address in Exchange, or send without "from"`
      : `Graph refused to send from ${mailbox} (${code ?? cause.status}): the app registration needs the Mail.Send application permission with admin consent (Entra ID → App registrations → API permissions → Grant admin consent), and no application access policy may exclude this mailbox`;
  return new PatchbayError(ErrorCode.PERMISSION_DENIED, message, {
    cause,
    status: cause.status,
    classification: 'permanent',
    data: { mailbox, ...(code && { graphCode: code }) },
  });
}
