import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import type { Clock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CircuitBreaker, CircuitBreakerOptions } from '../resilience/circuit-breaker.js';
import type { Classifier, ClassifierOverrides } from '../resilience/classification.js';
import type { ConcurrencyLimiterOptions } from '../resilience/concurrency-limiter.js';
import type { FixedWindowLimiterOptions } from '../resilience/fixed-window-limiter.js';
import { invalidOption } from '../resilience/options.js';
import type { RateLimiter } from '../resilience/rate-limiter.js';
import type { RetryOptions } from '../resilience/retry-policy.js';
import type { RollingWindowLimiterOptions } from '../resilience/rolling-window-limiter.js';
import type { TokenBucketLimiterOptions } from '../resilience/token-bucket-limiter.js';
import type { AuthProvider, ConnectionAuthResolver } from './auth-provider.js';
import type { UpstreamErrorReader } from './upstream-error.js';

/** Policy options the client fills in itself (one clock, classifier and registry for all of them). */
type Injected = 'clock' | 'classifier' | 'registry';

/**
 * The calls a limit applies to, when not all of them: HubSpot's search endpoints have a bucket of
 * their own. `path` is tested against the URL's path (`/crm/v3/objects/contacts/search`).
 */
export interface CallMatch {
  /** A method or several (Stripe counts writes, POST and DELETE, apart from reads); any when absent. */
  method?: string | readonly string[];
  path?: RegExp;
}

/** What a limit's `partition` sees of a call. `path` is the URL's path; `body` as it will be sent. */
export interface PartitionCall {
  method: string;
  path: string;
  body: string | Buffer | Uint8Array | undefined;
}

/**
 * The key a call is counted under within a limit, and the slots it takes (1 by default); undefined
 * leaves the call out of this limit. Graph counts per mailbox: `/users/{id}/…` gives the mailbox.
 */
export type Partition = (call: PartitionCall) => string | { key: string; cost?: number } | undefined;

/**
 * Which calls a declarative limit applies to (defaults to every call), and whether it is counted
 * apart for each partition of them (one quota per key, named `<name>:<key>` in the store).
 */
type Scoped = { only?: CallMatch; partition?: Partition };

/**
 * One rate limit. `{ limit, windowMs }` is a rolling window (never more than `limit` starts in any
 * `windowMs`); `kind` picks the others (`fixed-window`: a count reset at fixed instants, such as a
 * daily quota). A `store` shares the limit across processes (SQL or Redis, from `patchbay`'s store
 * module); `name` is the key in it (defaults to the client's `name`).
 */
export type RateLimitSpec =
  | ({ kind?: 'rolling-window' } & Scoped & Omit<RollingWindowLimiterOptions, Injected>)
  | ({ kind: 'fixed-window' } & Scoped & Omit<FixedWindowLimiterOptions, Injected>)
  | ({ kind: 'token-bucket' } & Scoped & Omit<TokenBucketLimiterOptions, Injected>)
  | ({ kind: 'concurrency' } & Scoped & Omit<ConcurrencyLimiterOptions, Injected>)
  | RateLimiter;

export interface HttpClientOptions {
  /** Every path is relative to it. HTTPS unless `allowInsecureHttp`. */
  baseUrl: string;
  /** The upstream's name in metrics, logs, spans, and the default key of its breaker and limits. Defaults to the connection id or the host. */
  name?: string;
  /** Longest one attempt may take, in ms. Defaults to 30 s. */
  timeoutMs?: number;
  /** Longest a whole call may take — waits for a rate-limit slot, attempts and backoff — in ms. Defaults to 2 min. */
  deadlineMs?: number;
  /** Retry options; false for one attempt only. Defaults to 3 attempts, full-jitter backoff from 200 ms. */
  retry?: false | Omit<RetryOptions, 'clock' | 'classifier'>;
  /** Breaker options (or a breaker shared by several clients); false for none. Defaults to opening after 5 failures in a row, probing after 30 s. */
  breaker?: false | CircuitBreaker | Omit<CircuitBreakerOptions, Injected>;
  /** One limit or several (HubSpot: 10 s and daily; Graph: a rate and 4 concurrent). None by default. */
  rateLimit?: false | RateLimitSpec | readonly RateLimitSpec[];
  /** Credentials for each call. Exclusive with `connection`. */
  auth?: AuthProvider;
  /** A connection id whose credentials the `connections` resolver (the vault) provides. */
  connection?: string;
  connections?: ConnectionAuthResolver;
  /** Allows `http://` base URLs (loopback tests, a sidecar). Defaults to false: credentials only travel over TLS. */
  allowInsecureHttp?: boolean;
  /** The undici dispatcher to send through (an Agent, a MockAgent, a proxy). Defaults to a Pool of its own. */
  dispatcher?: Dispatcher;
  /** Sockets of the client's own pool. Defaults to 32. */
  maxConnections?: number;
  /** Headers on every request (the request's own win). */
  headers?: Readonly<Record<string, string>>;
  /** Defaults to a silent logger. */
  logger?: Logger;
  /** Prometheus registry for the client's and its policies' metrics. None by default. */
  registry?: Registry;
  /** Connector-specific classification, or a whole classifier. Defaults to the shared table. */
  classify?: ClassifierOverrides | Classifier;
  /**
   * Reads the provider's error body (its message, code, and what its words say about retrying: HubSpot's
   * `policyName`). Defaults to none: the status and headers decide.
   */
  readError?: UpstreamErrorReader;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** Defaults to `trace.getTracer('patchbay')` (a no-op until the application registers an SDK). */
  tracer?: Tracer;
  /**
   * Told each attempt's answer, retries included, with its duration and headers (the engine records
   * 429s for `doctor` and each connection's calls for its health). A throw is ignored.
   */
  onAttempt?: (answer: AttemptAnswer) => void;
}

/** What one attempt got: the status, or the error code when no answer came (a timeout, a reset). */
export interface AttemptAnswer {
  status: number | undefined;
  code: string | undefined;
  /** From sending the attempt to its answer's headers (or its failure), in ms of the client's clock. */
  durationMs: number;
  /** The answer's headers (redacted), when one came: what it says of the quota left. */
  headers: Readonly<Record<string, string>> | undefined;
}

export const httpClientDefaults = {
  timeoutMs: 30_000,
  deadlineMs: 120_000,
  maxConnections: 32,
} as const;

export const HTTP_CLIENT_OPTIONS = [
  'baseUrl',
  'name',
  'timeoutMs',
  'deadlineMs',
  'retry',
  'breaker',
  'rateLimit',
  'auth',
  'connection',
  'connections',
  'allowInsecureHttp',
  'dispatcher',
  'maxConnections',
  'headers',
  'logger',
  'registry',
  'classify',
  'readError',
  'clock',
  'tracer',
  'onAttempt',
] as const;

/** Parses and checks the base URL: absolute, http(s), HTTPS unless allowed, no credentials or fragment in it. */
export function parseBaseUrl(value: unknown, allowInsecureHttp: boolean): URL {
  if (typeof value !== 'string' || value === '') throw invalidOption('baseUrl', 'an absolute URL', value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidOption('baseUrl', 'an absolute URL such as "https://api.example.com"', value);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidOption('baseUrl', 'an http(s) URL', url.protocol);
  }
  if (url.protocol === 'http:' && !allowInsecureHttp) {
    throw new PatchbayError(
      ErrorCode.INSECURE_URL,
      `baseUrl must use https (got http://${url.host}); pass allowInsecureHttp: true for a loopback or test upstream`,
    );
  }
  if (url.username || url.password) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      'baseUrl must not carry credentials (user:password@); pass them through `auth` so they are redacted',
    );
  }
  if (url.hash) throw invalidOption('baseUrl', 'a URL without a #fragment', value);
  return url;
}

export function checkAuthOptions(options: HttpClientOptions): void {
  const { auth, connection, connections } = options;
  if (auth !== undefined && connection !== undefined) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'pass either auth or connection, not both');
  }
  if (auth !== undefined && (typeof auth !== 'object' || typeof auth.authorize !== 'function')) {
    throw invalidOption('auth', 'an AuthProvider (an object with authorize())', auth);
  }
  if (connection !== undefined) {
    if (typeof connection !== 'string' || connection === '') {
      throw invalidOption('connection', 'a connection id', connection);
    }
    if (!connections || typeof connections.authProvider !== 'function') {
      throw invalidOption(
        'connections',
        'a ConnectionAuthResolver (engine.vault.resolver) with `connection`',
        connections,
      );
    }
  }
}

/** Header names and values as undici would refuse them late: CR/LF, which would also allow header injection. */
export function checkHeaders(where: string, headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw invalidOption(where, 'an object of header names to strings', headers);
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^`|~\w-]+$/.test(name)) throw invalidOption(`${where} name`, 'an HTTP token', name);
    if (typeof value !== 'string') throw invalidOption(`${where}.${name}`, 'a string', value);
    if (/[\r\n\0]/.test(value)) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `${where}.${name} must not contain CR, LF or NUL`);
    }
    out[name.toLowerCase()] = value;
  }
  return out;
}
