import { z } from 'zod';
import { parseJsonBody, type UpstreamErrorReader } from '../../http/upstream-error.js';
import { parseGoDuration } from './go-duration.js';

const errorBody = z.object({
  error: z
    .object({
      message: z.string().optional(),
      type: z.string().nullish(),
      param: z.string().nullish(),
      code: z.string().nullish(),
    })
    .loose(),
});

/**
 * OpenAI's `{"error":{message, type, param, code}}`, and what it means for retrying:
 * - 429 `insufficient_quota` is final (the account is out of credit; waiting does not help) — the SDK
 *   retries it because it never reads the body; Patchbay does not;
 * - 429 `rate_limit_exceeded` waits what the message says ("Please try again in 644ms") when the
 *   headers say nothing;
 * - `x-should-retry: true|false` decides, as it does for the SDK.
 * https://platform.openai.com/docs/guides/error-codes
 */
export const openaiErrorReader: UpstreamErrorReader = ({ status, headers, body }) => {
  const parsed = errorBody.safeParse(parseJsonBody(body));
  const e = parsed.success ? parsed.data.error : undefined;
  const code = e?.code ?? e?.type ?? undefined;
  const details: Record<string, string> = {};
  if (e?.type) details.type = e.type;
  if (e?.param) details.param = e.param;
  if (headers['x-request-id']) details.requestId = headers['x-request-id'];
  const reading = {
    ...(e?.message !== undefined && { message: e.message }),
    ...(code && { code }),
    details,
  };
  if (code === 'insufficient_quota') return { ...reading, classification: 'permanent' as const };
  const shouldRetry = headers['x-should-retry'];
  if (shouldRetry === 'false') return { ...reading, classification: 'permanent' as const };
  if (shouldRetry === 'true') return { ...reading, classification: 'transient' as const };
  if (status === 429 && e?.message) {
    const wait = /try again in ([\d.]+(?:ms|s|m|h)(?:[\d.]+(?:ms|s))?)/.exec(e.message)?.[1];
    const retryAfterMs = parseGoDuration(wait);
    if (retryAfterMs !== undefined) return { ...reading, retryAfterMs };
  }
  return e ? reading : undefined;
};
