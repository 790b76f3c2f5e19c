import { ErrorCode, PatchbayError } from '../core/errors.js';

/**
 * The one table that says what a response or an error means for the caller. Retry, breaker, rate
 * limiter and HTTP client all ask here; nothing else keeps its own status list.
 *
 * - `success`: done.
 * - `transient`: the same request may succeed later (429, 408, 425, 500, 502, 503, 504, timeouts,
 *   connection reset/refused, DNS temporary failure) → retry with backoff.
 * - `permanent`: retrying cannot help (400, 403, 404, 405, 409, 410, 422, other 4xx, 501, …) → fail at
 *   once with a typed error.
 * - `auth`: 401 → refresh the credentials once, then retry once.
 * - `partial`: 207, or a 2xx batch answer with per-item errors → return the successes and the failures
 *   separately.
 */
export type Classification = 'success' | 'transient' | 'permanent' | 'auth' | 'partial';

/**
 * 500 is here as well as the 502/503/504 trio: providers (HubSpot, Graph) answer 500 for momentary
 * faults, and only idempotent requests (or ones with an idempotency key) are retried anyway.
 */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Error codes of failures that happen before a request reaches the server; safe to retry for any method. */
export const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Network error codes worth retrying. `ENOTFOUND` (no such host) and certificate errors are not. */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  ...NOT_SENT_CODES,
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** What the classifier sees of a response. Header names are lower case. */
export interface ResponseOutcome {
  status: number;
  headers: Readonly<Record<string, string>>;
  body?: unknown;
}

/** Per-connector adjustments; anything they leave undecided falls through to the defaults. */
export interface ClassifierOverrides {
  /** Fixed answers by status, e.g. `{ 409: 'transient' }` for an API that uses 409 for "busy". */
  statuses?: Readonly<Record<number, Classification>>;
  /** Decides a response; return undefined to use the default. */
  response?: (outcome: ResponseOutcome) => Classification | undefined;
  /** Decides an error; return undefined to use the default. */
  error?: (error: unknown) => Classification | undefined;
}

export interface Classifier {
  response(outcome: ResponseOutcome): Classification;
  error(error: unknown): Classification;
}

export function classifyResponse(outcome: ResponseOutcome): Classification {
  const { status, headers } = outcome;
  if (status >= 200 && status < 300) {
    if (status === 207 || hasItemErrors(outcome.body)) return 'partial';
    return 'success';
  }
  if (status === 304) return 'success';
  if (status === 401) return 'auth';
  if (TRANSIENT_STATUSES.has(status)) return 'transient';
  // GitHub answers an exhausted rate limit with 403 (not 429): remaining 0 or a Retry-After tells it
  // apart from a permission 403. https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
  if (status === 403 && isRateLimitSignal(headers)) return 'transient';
  return 'permanent';
}

/**
 * The stable code of the error a failed answer becomes: `RATE_LIMITED` for 429, `HTTP_SERVER_ERROR` for
 * 5xx, `HTTP_CLIENT_ERROR` for the rest (its classification says whether it is retried).
 */
export function errorCodeForStatus(status: number): ErrorCode {
  if (status === 429) return ErrorCode.RATE_LIMITED;
  return status >= 500 ? ErrorCode.HTTP_SERVER_ERROR : ErrorCode.HTTP_CLIENT_ERROR;
}

/** True when the headers say the caller is being throttled (any provider's convention). */
export function isRateLimitSignal(headers: Readonly<Record<string, string>>): boolean {
  return (
    headers['retry-after'] !== undefined ||
    headers['x-ratelimit-remaining'] === '0' ||
    headers['ratelimit-remaining'] === '0'
  );
}

/**
 * A 2xx batch answer that carries per-item failures: HubSpot's `{ results, errors: [...] }` /
 * `numErrors`, or Graph's `$batch` `{ responses: [{ status }] }` with a failed sub-request.
 */
export function hasItemErrors(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const record = body as Record<string, unknown>;
  if (typeof record.numErrors === 'number' && record.numErrors > 0) return true;
  if (Array.isArray(record.errors) && record.errors.length > 0 && Array.isArray(record.results)) return true;
  if (Array.isArray(record.responses)) {
    return record.responses.some((r) =>
      typeof r === 'object' && r !== null && typeof (r as { status?: unknown }).status === 'number'
        ? (r as { status: number }).status >= 400
        : false,
    );
  }
  return false;
}

export function classifyError(error: unknown): Classification {
  if (error instanceof PatchbayError) {
    if (error.classification !== undefined) return error.classification;
    switch (error.code) {
      case ErrorCode.TIMEOUT:
      case ErrorCode.RATE_LIMITED:
        return 'transient';
      case ErrorCode.NETWORK_ERROR:
        return 'transient';
      case ErrorCode.AUTH_FAILED:
        return 'auth';
      // An exhausted retry loop is final; an enclosing policy must not retry it again.
      case ErrorCode.RETRIES_EXHAUSTED:
        return 'permanent';
      case ErrorCode.HTTP_SERVER_ERROR:
      case ErrorCode.HTTP_CLIENT_ERROR:
        return error.status === undefined
          ? 'permanent'
          : classifyResponse({ status: error.status, headers: error.headers ?? {} });
      default:
        return 'permanent';
    }
  }
  const code = errorCodeOf(error);
  if (code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) return 'transient';
  return 'permanent';
}

/** The `code` of a Node system error or undici error, looking through `cause` chains. */
export function errorCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && !(current instanceof PatchbayError)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isClassification(value: unknown): value is Classification {
  return (
    value === 'success' ||
    value === 'transient' ||
    value === 'permanent' ||
    value === 'auth' ||
    value === 'partial'
  );
}

export const defaultClassifier: Classifier = { response: classifyResponse, error: classifyError };

export function createClassifier(overrides: ClassifierOverrides = {}): Classifier {
  const { statuses, response, error } = overrides;
  if (!statuses && !response && !error) return defaultClassifier;
  for (const [status, value] of Object.entries(statuses ?? {})) {
    if (!isClassification(value)) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `classifier.statuses[${status}] must be one of success, transient, permanent, auth, partial (got ${String(value)})`,
      );
    }
  }
  return {
    response(outcome) {
      return response?.(outcome) ?? statuses?.[outcome.status] ?? classifyResponse(outcome);
    },
    error(err) {
      const decided = error?.(err);
      if (decided) return decided;
      if (err instanceof PatchbayError && err.status !== undefined && statuses?.[err.status]) {
        return statuses[err.status]!;
      }
      return classifyError(err);
    },
  };
}

/**
 * What the answer to a delivery attempt (a webhook POST) means. Deliveries ask here as every other
 * outbound call asks `classifyResponse`; only the vocabulary differs, because a delivery's rules
 * (dead letters, disabling) need to tell apart answers that are all "permanent" for an API call.
 *
 * - `delivered`: 2xx, the only success.
 * - `redirected`: 3xx, a failure and never followed (a redirect would bypass the SSRF check of the
 *   first address).
 * - `too-fast`: 429, the receiver is up and we are too fast: a longer minimum wait, no verdict on its
 *   health, and a refusal for the adaptive throttle.
 * - `gone`: 410, the endpoint no longer exists: the destination is disabled.
 * - `refused`: any other 4xx, the receiver is up and refuses this delivery (retried on schedule: a
 *   misconfigured receiver is usually fixed within the schedule).
 * - `broken`: 5xx, the receiver is failing.
 */
export type DeliveryAnswer = 'delivered' | 'redirected' | 'too-fast' | 'gone' | 'refused' | 'broken';

export function classifyDeliveryStatus(status: number): DeliveryAnswer {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 300 && status < 400) return 'redirected';
  if (status === 429) return 'too-fast';
  if (status === 410) return 'gone';
  if (status >= 500) return 'broken';
  return 'refused';
}

/** The stable error code a failed delivery answer is recorded with. */
export function deliveryErrorCode(answer: Exclude<DeliveryAnswer, 'delivered'>): ErrorCode {
  if (answer === 'redirected') return ErrorCode.HTTP_REDIRECT;
  if (answer === 'broken') return ErrorCode.HTTP_SERVER_ERROR;
  return ErrorCode.HTTP_CLIENT_ERROR;
}

/** Refusals made before any connection: about our configuration, DNS or shutdown, not the receiver. */
export const REFUSED_LOCALLY_CODES: ReadonlySet<string> = new Set([
  ErrorCode.SSRF_BLOCKED,
  ErrorCode.INSECURE_URL,
  ErrorCode.ABORTED,
]);

/** What a finished attempt is, as far as deliveries are concerned: an HTTP status, or an error code. */
export interface AttemptSummary {
  statusCode: number | null;
  errorCode: string | null;
}

/**
 * The receiver is overloaded: it answered 429 or did not answer in time. The next retry waits at
 * least the schedule's overload minimum.
 */
export function isOverloadSignal(attempt: AttemptSummary): boolean {
  if (attempt.statusCode !== null) return classifyDeliveryStatus(attempt.statusCode) === 'too-fast';
  return attempt.errorCode === ErrorCode.TIMEOUT;
}

/**
 * What a finished delivery attempt says about the receiver's health, as a thrown-or-not outcome the
 * resilience policies (breaker, adaptive throttle) read with `classifyError`: undefined when it
 * succeeded, otherwise a `PatchbayError` whose code and classification carry the verdict —
 * `RATE_LIMITED` for a 429 (no verdict on health, a refusal for throttling), `ABORTED` for refusals
 * made locally (no verdict at all), `transient` for 5xx, timeouts and transport failures (the
 * receiver is failing), `permanent` for 3xx and 4xx (it answers, so it is up).
 */
export function attemptVerdict(
  attempt: AttemptSummary & { errorMessage?: string | null },
): PatchbayError | undefined {
  const message = attempt.errorMessage ?? 'delivery attempt failed';
  if (attempt.statusCode !== null) {
    const answer = classifyDeliveryStatus(attempt.statusCode);
    if (answer === 'delivered') return undefined;
    if (answer === 'too-fast') return new PatchbayError(ErrorCode.RATE_LIMITED, message, { status: 429 });
    return new PatchbayError(deliveryErrorCode(answer), message, {
      status: attempt.statusCode,
      classification: answer === 'broken' ? 'transient' : 'permanent',
    });
  }
  if (attempt.errorCode === null) return undefined;
  if (REFUSED_LOCALLY_CODES.has(attempt.errorCode)) return new PatchbayError(ErrorCode.ABORTED, message);
  return new PatchbayError(ErrorCode.NETWORK_ERROR, message, { classification: 'transient' });
}

/**
 * What a failed call says about the upstream, for the policies that track its health (breaker,
 * adaptive throttle):
 * - `local`: refused or cancelled on our side (aborted, circuit open, bulkhead full, throttled): no verdict;
 * - `too-fast`: the upstream is up and refuses us for now (rate limited);
 * - `failing`: a transient failure (5xx, timeouts, connection failures);
 * - `answering`: any other answer (4xx…): the upstream is up.
 */
export type UpstreamSignal = 'local' | 'too-fast' | 'failing' | 'answering';

const LOCAL_CODES: ReadonlySet<string> = new Set([
  ErrorCode.ABORTED,
  ErrorCode.CIRCUIT_OPEN,
  ErrorCode.BULKHEAD_FULL,
  ErrorCode.THROTTLED,
]);

export function upstreamSignal(error: unknown, classifier: Classifier = defaultClassifier): UpstreamSignal {
  if (error instanceof PatchbayError) {
    if (LOCAL_CODES.has(error.code)) return 'local';
    if (error.code === ErrorCode.RATE_LIMITED) return 'too-fast';
  }
  return classifier.error(error) === 'transient' ? 'failing' : 'answering';
}
