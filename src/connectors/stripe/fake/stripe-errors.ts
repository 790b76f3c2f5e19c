/**
 * Stripe's error answer: `{ error: { type, code, decline_code, message, param, doc_url, request_log_url } }`.
 * `saved` says whether the idempotency layer keeps it: Stripe saves the result of any request whose
 * endpoint began executing (card declines, state errors, even 500s), but not one whose parameters
 * failed validation or that was refused before running (rate limit, key in use).
 * https://docs.stripe.com/api/errors, https://docs.stripe.com/api/idempotent_requests
 */
export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export class StripeFakeError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly fields: { code?: string; param?: string; decline_code?: string; [extra: string]: unknown } = {},
    readonly saved = true,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A parameter problem found before the endpoint runs: answered 400 and never saved for the key. */
export function paramError(message: string, param: string, code?: string): StripeFakeError {
  return new StripeFakeError(400, 'invalid_request_error', message, { ...(code && { code }), param }, false);
}

export function noSuch(noun: string, id: string, param?: string, saved = false): StripeFakeError {
  return new StripeFakeError(
    404,
    'invalid_request_error',
    `No such ${noun}: '${id}'`,
    { code: 'resource_missing', ...(param && { param }) },
    saved,
  );
}

export function errorBody(error: StripeFakeError, requestId: string, now: number) {
  const { code } = error.fields;
  return {
    error: {
      ...error.fields,
      ...(code && { doc_url: `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}` }),
      message: error.message,
      request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}?t=${Math.floor(now / 1000)}`,
      type: error.type,
    },
  };
}
