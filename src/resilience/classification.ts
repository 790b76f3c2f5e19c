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
