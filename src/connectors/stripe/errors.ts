import { z } from 'zod';
import {
  parseJsonBody,
  type UpstreamErrorReader,
  type UpstreamErrorReading,
} from '../../http/upstream-error.js';

export const RATE_LIMIT_WAIT_MS = 1000;

/** Stripe's error body: `{ error: { type, code, decline_code, message, param, doc_url } }`. */
const errorBody = z
  .object({
    error: z
      .object({
        type: z.string().optional(),
        code: z.string().optional(),
        decline_code: z.string().optional(),
        message: z.string().optional(),
        param: z.string().optional(),
        doc_url: z.string().optional(),
      })
      .loose(),
  })
  .loose();

/**
 * Reads Stripe's error answers (https://docs.stripe.com/api/errors):
 * - `stripe-should-retry: true|false` decides first, as stripe-node does (Stripe sends it on a 409
 *   `idempotency_key_in_use`, say);
 * - `card_error` (402: a decline) and `idempotency_error` (a key reused with other parameters) are final:
 *   repeating them cannot succeed and a decline must never be retried into a second attempt;
 * - a 429 (no rate-limit headers, no `Retry-After`) waits a second — Stripe's limits are per second —
 *   and retries; `api_error` (5xx) retries under
 *   the request's idempotency key, so the retry replays rather than repeats.
 * The code, decline code and parameter ride along in the error's details.
 */
export const stripeErrorReader: UpstreamErrorReader = ({ status, headers, body }) => {
  const parsed = errorBody.safeParse(parseJsonBody(body));
  const e = parsed.success ? parsed.data.error : undefined;
  const details: Record<string, string> = {};
  if (e?.type) details.type = e.type;
  if (e?.decline_code) details.declineCode = e.decline_code;
  if (e?.param) details.param = e.param;
  if (headers['request-id']) details.requestId = headers['request-id'];
  const reading: UpstreamErrorReading = {
    ...(e?.message !== undefined && { message: e.message }),
    ...((e?.code ?? e?.type) !== undefined && { code: e?.code ?? e?.type }),
    ...(Object.keys(details).length > 0 && { details }),
  };
  const told = headers['stripe-should-retry'];
  if (told === 'true') return { ...reading, classification: 'transient' };
  if (told === 'false') return { ...reading, classification: 'permanent' };
  if (e?.type === 'card_error' || e?.type === 'idempotency_error')
    return { ...reading, classification: 'permanent' };
  // Stripe counts per second and says no more than 429: the budget is back within a second.
  if (status === 429 || e?.type === 'rate_limit_error')
    return { ...reading, classification: 'transient', retryAfterMs: RATE_LIMIT_WAIT_MS };
  return reading;
};
