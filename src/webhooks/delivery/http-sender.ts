import { type Dispatcher, Pool, errors as undiciErrors } from 'undici';
import { ErrorCode, errorMessage, isPatchbayError } from '../../core/errors.js';
import {
  classifyDeliveryStatus,
  deliveryErrorCode,
  isOverloadSignal,
} from '../../resilience/classification.js';
import { parseRetryAfter } from '../../resilience/retry-after.js';

/** Response bodies kept in the attempts log are cut here (Svix keeps 20,000 bytes). */
export const RESPONSE_BODY_LIMIT = 20_000;

export interface SendRequest {
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface AttemptResult {
  outcome: 'succeeded' | 'failed';
  statusCode: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  durationMs: number;
  /** The receiver's `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** 429 or a timeout (`isOverloadSignal`): the next retry waits at least the overload minimum. */
  overloaded: boolean;
  /** 410 Gone: the receiver says the endpoint no longer exists. */
  gone: boolean;
}

/** Makes the connection pool for a destination: where the SSRF guard plugs in (connect to checked IPs). */
export type DispatcherFactory = (url: URL) => Dispatcher;

export const plainDispatcherFactory: DispatcherFactory = (url) =>
  new Pool(url.origin, { connections: 16, pipelining: 1, keepAliveTimeout: 10_000 });

/**
 * Posts one delivery attempt; what its answer means is `classifyDeliveryStatus`'s (only a 2xx is success;
 * a 3xx is never followed). The body read back is cut at 20 kB.
 */
export class HttpSender {
  private readonly pools = new Map<string, Dispatcher>();

  constructor(
    private readonly dispatcherFactory: DispatcherFactory = plainDispatcherFactory,
    private readonly now: () => number = Date.now,
  ) {}

  async send(request: SendRequest): Promise<AttemptResult> {
    const started = this.now();
    const failed = (errorCode: string, message: string): AttemptResult => ({
      outcome: 'failed',
      statusCode: null,
      responseHeaders: null,
      responseBody: null,
      errorCode,
      errorMessage: message,
      durationMs: this.now() - started,
      overloaded: isOverloadSignal({ statusCode: null, errorCode }),
      gone: false,
    });
    let response: Dispatcher.ResponseData;
    try {
      response = await this.dispatcher(request.url).request({
        method: 'POST',
        path: `${request.url.pathname}${request.url.search}`,
        // Host is undici's, from the pool's origin (destinations cannot set `host`).
        headers: request.headers,
        body: request.body,
        // undici's own timers bound each phase (response headers, then each body chunk): no per-request
        // AbortSignal.timeout to allocate.
        ...(request.signal && { signal: request.signal }),
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
      });
    } catch (err) {
      if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
        return failed(ErrorCode.TIMEOUT, `no response within ${request.timeoutMs} ms`);
      }
      if (request.signal?.aborted) return failed(ErrorCode.ABORTED, 'aborted (shutting down)');
      if (isPatchbayError(err)) return failed(err.code, err.message);
      const cause = (err as { cause?: unknown }).cause;
      if (isPatchbayError(cause)) return failed(cause.code, cause.message);
      const code = (err as { code?: string }).code;
      return failed(ErrorCode.NETWORK_ERROR, code ? `${code}: ${errorMessage(err)}` : errorMessage(err));
    }
    const responseHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    let responseBody: string;
    try {
      responseBody = await readLimited(response.body, RESPONSE_BODY_LIMIT);
    } catch (err) {
      if (err instanceof undiciErrors.BodyTimeoutError) {
        return {
          ...failed(ErrorCode.TIMEOUT, `response body stalled for ${request.timeoutMs} ms`),
          statusCode: response.statusCode,
          responseHeaders,
        };
      }
      responseBody = `(body not read: ${errorMessage(err)})`;
    }
    const status = response.statusCode;
    const answer = classifyDeliveryStatus(status);
    const retryAfterMs = parseRetryAfter(responseHeaders['retry-after'], this.now());
    const common = {
      statusCode: status,
      responseHeaders,
      responseBody,
      durationMs: this.now() - started,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
      overloaded: isOverloadSignal({ statusCode: status, errorCode: null }),
      gone: answer === 'gone',
    };
    if (answer === 'delivered')
      return { outcome: 'succeeded', errorCode: null, errorMessage: null, ...common };
    return {
      outcome: 'failed',
      errorCode: deliveryErrorCode(answer),
      errorMessage:
        answer === 'redirected'
          ? `redirect to ${responseHeaders.location ?? '(no location)'} not followed`
          : `HTTP ${status}`,
      ...common,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => {})));
    this.pools.clear();
  }

  private dispatcher(url: URL): Dispatcher {
    let pool = this.pools.get(url.origin);
    if (!pool) {
      pool = this.dispatcherFactory(url);
      this.pools.set(url.origin, pool);
    }
    return pool;
  }
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (size + buf.length >= limit) {
      chunks.push(buf.subarray(0, limit - size));
      size = limit;
      // The rest is not ours to keep; dropping the connection is cheaper than reading megabytes.
      body.destroy();
      break;
    }
    chunks.push(buf);
    size += buf.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
