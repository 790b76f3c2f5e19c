import { trace } from '@opentelemetry/api';
import { type Dispatcher, Pool } from 'undici';
import { abortError, type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { isSecretHeader, isSecretParam } from '../core/redact.js';
import { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { type Classifier, type ClassifierOverrides, createClassifier } from '../resilience/classification.js';
import { checkInteger, checkKnownKeys, checkNumber, invalidOption } from '../resilience/options.js';
import { RetryPolicy } from '../resilience/retry-policy.js';
import { TimeoutPolicy } from '../resilience/timeout-policy.js';
import { NEVER_ABORTED } from '../resilience/timers.js';
import type { AuthProvider } from './auth-provider.js';
import { buildRequest } from './build-request.js';
import {
  checkAuthOptions,
  checkHeaders,
  HTTP_CLIENT_OPTIONS,
  type HttpClientOptions,
  httpClientDefaults,
  parseBaseUrl,
} from './client-options.js';
import { httpMetrics } from './http-metrics.js';
import type {
  Handler,
  HttpCall,
  HttpRequest,
  HttpResponse,
  Interceptor,
  RawResponse,
  ResponseSchema,
} from './http-types.js';
import { attemptMetricsInterceptor } from './interceptors/attempt-metrics.js';
import { authInterceptor } from './interceptors/auth.js';
import { breakerInterceptor } from './interceptors/breaker.js';
import { rateLimitInterceptor } from './interceptors/rate-limit.js';
import { retryInterceptor } from './interceptors/retry.js';
import { telemetryInterceptor } from './interceptors/telemetry.js';
import { timeoutInterceptor } from './interceptors/timeout.js';
import { buildRateLimiters } from './rate-limit-options.js';
import { transport } from './transport.js';

export interface HttpClient {
  /** The upstream's name in metrics, logs and spans. */
  readonly name: string;
  readonly baseUrl: URL;
  /** The breaker guarding this upstream, when there is one (for its state and events). */
  readonly breaker: CircuitBreaker | undefined;
  request<T = unknown>(request: HttpRequest<T>): Promise<HttpResponse<T>>;
  /** Closes the client's own connection pool (not a dispatcher passed in). */
  close(): Promise<void>;
}

/**
 * A resilient client for one upstream, on an undici dispatcher. Every call passes, outermost first:
 *
 *   telemetry → auth → retry → rate limit → breaker → timeout → transport
 *
 * - telemetry: one span, the latency histogram, the outcome counter and one redacted log line per call;
 * - auth: credentials on the call; a 401 refreshes them once and replays the call once;
 * - retry: the attempts, with backoff, Retry-After, the deadline and the retry budget;
 * - rate limit: every attempt waits for a slot in each limit (bounded by the deadline), and feeds the
 *   provider's quota headers and 429s back into it;
 * - breaker: every attempt is admitted by, and reported to, the upstream's breaker;
 * - timeout: bounds each attempt;
 * - transport: undici; classifies the answer once and throws anything that is not a success.
 *
 * Retry sits outside the rate limit and the breaker so that each retry takes its own slot and counts
 * for the upstream's health (docs/decisions/0011-interceptor-order.md).
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  checkKnownKeys('createHttpClient options', options, HTTP_CLIENT_OPTIONS);
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  if (typeof allowInsecureHttp !== 'boolean')
    throw invalidOption('allowInsecureHttp', 'a boolean', allowInsecureHttp);
  const baseUrl = parseBaseUrl(options.baseUrl, allowInsecureHttp);
  checkAuthOptions(options);
  const name = options.name ?? options.connection ?? baseUrl.host;
  if (typeof name !== 'string' || name === '') throw invalidOption('name', 'a non-empty string', name);
  const timeoutMs = checkNumber('timeoutMs', options.timeoutMs ?? httpClientDefaults.timeoutMs, 1);
  const deadlineMs = checkNumber('deadlineMs', options.deadlineMs ?? httpClientDefaults.deadlineMs, 1);
  const maxConnections = checkInteger(
    'maxConnections',
    options.maxConnections ?? httpClientDefaults.maxConnections,
    1,
    10_000,
  );
  const defaultHeaders = checkHeaders('headers', options.headers);
  const defaultSecrets = secretsOf({ url: baseUrl, headers: defaultHeaders });
  const clock: Clock = options.clock ?? systemClock;
  const classifier = toClassifier(options.classify);
  const registry = options.registry;
  const readError = options.readError;
  if (readError !== undefined && typeof readError !== 'function')
    throw invalidOption('readError', 'a function', readError);
  if (options.onAttempt !== undefined && typeof options.onAttempt !== 'function')
    throw invalidOption('onAttempt', 'a function', options.onAttempt);

  const ownPool = options.dispatcher === undefined;
  const dispatcher: Dispatcher =
    options.dispatcher ?? new Pool(baseUrl.origin, { connections: maxConnections, keepAliveTimeout: 10_000 });

  const retry =
    options.retry === false ? undefined : new RetryPolicy({ ...options.retry, clock, classifier });
  const breaker =
    options.breaker === false
      ? undefined
      : options.breaker instanceof CircuitBreaker
        ? options.breaker
        : new CircuitBreaker({
            name,
            ...options.breaker,
            clock,
            classifier,
            ...(registry && { registry }),
          });
  const limiters = buildRateLimiters(options.rateLimit, { name, clock, registry });
  const timeout = new TimeoutPolicy({ timeoutMs, clock });
  const metrics = registry ? httpMetrics(registry) : undefined;
  const authProvider = authSource(options);

  // Outermost first; read this list to know what a call goes through.
  const chain: Interceptor[] = [
    telemetryInterceptor({
      upstream: name,
      logger: options.logger ?? silentLogger,
      metrics,
      tracer: options.tracer ?? trace.getTracer('patchbay'),
      clock,
    }),
    ...(authProvider ? [authInterceptor(authProvider, classifier)] : []),
    ...(retry ? [retryInterceptor(retry)] : []),
    ...(limiters.length > 0 ? [rateLimitInterceptor(limiters, clock)] : []),
    ...(breaker ? [breakerInterceptor(breaker)] : []),
    timeoutInterceptor(timeout, clock),
    ...(metrics || options.onAttempt
      ? [attemptMetricsInterceptor(metrics, name, options.onAttempt, clock)]
      : []),
  ];
  const handler: Handler = chain.reduceRight<Handler>(
    (next, interceptor) => interceptor(next),
    transport(dispatcher, classifier, clock, readError),
  );

  const newCall = (request: HttpRequest): HttpCall => {
    const built = buildRequest(baseUrl, defaultHeaders, request);
    return {
      method: built.method,
      url: built.url,
      headers: built.headers,
      body: built.body,
      replayable: built.replayable,
      stream: request.stream === true,
      maxBodyBytes:
        request.maxBodyBytes === undefined
          ? undefined
          : checkInteger('request.maxBodyBytes', request.maxBodyBytes, 1),
      signal: request.signal ?? NEVER_ABORTED,
      deadline: clock.now() + deadlineMs,
      // Present from the start: V8 copies `{ ...call, attemptTimer }` in ~20 ns when the property
      // exists, and takes a slow path (~0.5 µs) when the spread has to add it.
      attemptTimer: undefined,
      state: {
        attempts: 0,
        secretParams: [],
        // The default headers' secrets are found once; most calls add neither headers nor a query.
        secrets:
          request.headers === undefined && built.url.search === ''
            ? defaultSecrets.slice()
            : secretsOf(built),
      },
    };
  };

  return {
    name,
    baseUrl,
    breaker,
    request<T>(request: HttpRequest<T>): Promise<HttpResponse<T>> {
      let call: HttpCall;
      let pending: Promise<RawResponse>;
      try {
        if (request?.stream && request.schema) {
          throw new PatchbayError(
            ErrorCode.INVALID_ARGUMENT,
            'request.stream and request.schema exclude each other: a stream is read by its caller',
          );
        }
        call = newCall(request);
        pending = handler(call);
      } catch (error) {
        return Promise.reject(error);
      }
      if (call.stream)
        return pending.then((raw) => streamed(raw, request.signal)) as Promise<HttpResponse<T>>;
      // The transport's answer is the response, attempts included: only a schema takes a step of its own.
      const { schema } = request;
      if (!schema) return pending as Promise<HttpResponse<T>>;
      return pending.then((raw) => validated(raw, schema, call));
    },
    async close() {
      if (ownPool) await dispatcher.close();
    },
  };
}

/**
 * A streamed answer outlives the attempt's signal (the timeout stage lets go of it once the headers
 * are in), so the caller's own signal is tied to the body: aborting it ends the stream.
 */
function streamed(raw: RawResponse, signal: AbortSignal | undefined): RawResponse {
  const body = raw.body as { destroy?: (error?: Error) => void } | undefined;
  if (signal && body?.destroy) {
    if (signal.aborted) body.destroy(abortError(signal));
    else signal.addEventListener('abort', () => body.destroy!(abortError(signal)), { once: true });
  }
  return raw;
}

/** The response with its body checked against the caller's schema (and typed by it). */
function validated<T>(raw: RawResponse, schema: ResponseSchema<T>, call: HttpCall): HttpResponse<T> {
  const parsed = schema.safeParse(raw.body);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new PatchbayError(
      ErrorCode.RESPONSE_INVALID,
      `${call.method} ${call.url.pathname} answered ${raw.status} with a body that does not match the schema: ${issues.join('; ')}`,
      { status: raw.status, data: { issues } },
    );
  }
  return { ...raw, body: parsed.data };
}

/** Secret-looking values the caller put on the request itself, to scrub from messages and bodies. */
function secretsOf(built: { url: URL; headers: Record<string, string> }): string[] {
  const secrets: string[] = [];
  // `searchParams` is built on first use: skip it for the many calls without a query.
  if (built.url.search !== '') {
    for (const [name, value] of built.url.searchParams) if (isSecretParam(name) && value) secrets.push(value);
  }
  for (const [name, value] of Object.entries(built.headers)) {
    if (isSecretHeader(name) && value) secrets.push(value, value.slice(value.indexOf(' ') + 1));
  }
  return secrets;
}

/** Overrides fall through to the shared table; a whole `Classifier` (both hooks) decides everything itself. */
function toClassifier(classify: HttpClientOptions['classify']): Classifier {
  if (classify === undefined) return createClassifier();
  if (typeof classify !== 'object' || classify === null)
    throw invalidOption('classify', 'an object', classify);
  return createClassifier(classify as ClassifierOverrides);
}

/** The auth provider, resolved once (for a connection, on the first call; a failure is retried next call). */
function authSource(options: HttpClientOptions): (() => Promise<AuthProvider>) | undefined {
  if (options.auth) {
    const provider = Promise.resolve(options.auth);
    return () => provider;
  }
  const { connection, connections } = options;
  if (connection === undefined || !connections) return undefined;
  let pending: Promise<AuthProvider> | undefined;
  return () => {
    pending ??= connections.authProvider(connection).catch((error) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
