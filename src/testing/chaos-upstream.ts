import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer. Without `status`, 200 with a small JSON echo of the request. */
export interface ChaosStep {
  status?: number;
  headers?: Record<string, string>;
  /** An object or array is sent as JSON; a string as is. */
  body?: unknown;
  /** Sent as `Retry-After`: seconds (a number, fractional allowed) or an HTTP-date string. */
  retryAfter?: number | string;
  /** Waits this long before answering, in ms. */
  delayMs?: number;
  /** Never answers (the connection stays open until the client gives up or the upstream closes). */
  hang?: boolean;
  /** Destroys the connection without answering (the client sees ECONNRESET / socket closed). */
  reset?: boolean;
}

export interface ChaosRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Arrival time, epoch ms. */
  at: number;
}

/** A rolling-window limit counted on arrivals, answered like HubSpot's 10-second limit. */
export interface ChaosRateLimit {
  /** Requests allowed in any window. */
  limit: number;
  windowMs: number;
  /** Adds `Retry-After` (the time until a slot frees, rounded up to seconds) to 429s; HubSpot sends none. Defaults to false. */
  retryAfter?: boolean;
}

export interface ChaosUpstreamOptions {
  /** Answers given in order, one per request (after the rate limit), then `fallback`. */
  script?: ChaosStep[];
  /** The answer once the script is used up; a function decides per request. Defaults to 200 + echo. */
  fallback?: ChaosStep | ((request: ChaosRequest) => ChaosStep);
  rateLimit?: ChaosRateLimit;
  /** Defaults to an ephemeral port on 127.0.0.1. */
  port?: number;
}

export interface ChaosStats {
  /** Requests received. */
  requests: number;
  /** Requests refused with 429 by the rate limit. */
  limited: number;
}

/**
 * A real HTTP server on 127.0.0.1 whose behaviour is scripted: status sequences, `Retry-After`,
 * latency, hangs, connection resets, and a rolling-window limit that answers 429 the way HubSpot does
 * (`policyName: "TEN_SECONDLY_ROLLING"`, `X-HubSpot-RateLimit-*` headers on every answer).
 *
 *   const upstream = await startChaosUpstream({ script: [{ status: 503, retryAfter: 1 }, { status: 200 }] });
 *   const client = createHttpClient({ baseUrl: upstream.url, allowInsecureHttp: true });
 */
export class ChaosUpstream {
  readonly requests: ChaosRequest[] = [];
  readonly stats: ChaosStats = { requests: 0, limited: 0 };
  private queue: ChaosStep[];
  private fallback: NonNullable<ChaosUpstreamOptions['fallback']>;
  private rateLimit: ChaosRateLimit | undefined;
  /** Arrival times inside the current window, oldest first. */
  private arrivals: number[] = [];
  private readonly server: Server;
  private address = '';

  constructor(options: ChaosUpstreamOptions = {}) {
    this.queue = [...(options.script ?? [])];
    this.fallback = options.fallback ?? {};
    this.rateLimit = options.rateLimit;
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return this.address;
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.address = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Replaces what is left of the script. */
  script(steps: ChaosStep[]): this {
    this.queue = [...steps];
    return this;
  }

  setFallback(fallback: NonNullable<ChaosUpstreamOptions['fallback']>): this {
    this.fallback = fallback;
    return this;
  }

  setRateLimit(rateLimit: ChaosRateLimit | undefined): this {
    this.rateLimit = rateLimit;
    this.arrivals = [];
    return this;
  }

  /** Forgets received requests and counts (not the script). */
  clear(): void {
    this.requests.length = 0;
    this.stats.requests = 0;
    this.stats.limited = 0;
    this.arrivals = [];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const at = Date.now();
    this.stats.requests++;
    const { limited, quota } = this.admit(at);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ChaosRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at,
      };
      this.requests.push(request);
      if (limited) {
        this.stats.limited++;
        this.send(res, limited);
        return;
      }
      const step =
        this.queue.shift() ?? (typeof this.fallback === 'function' ? this.fallback(request) : this.fallback);
      this.answer(req, res, request, step, quota);
    });
  }

  /** Counts an arrival; returns the 429 to send when the window is full, else the quota headers. */
  private admit(at: number): { limited?: ChaosStep; quota?: Record<string, string> } {
    const limit = this.rateLimit;
    if (!limit) return {};
    while (this.arrivals.length > 0 && this.arrivals[0]! <= at - limit.windowMs) this.arrivals.shift();
    const quota = (remaining: number) => ({
      'x-hubspot-ratelimit-interval-milliseconds': String(limit.windowMs),
      'x-hubspot-ratelimit-max': String(limit.limit),
      'x-hubspot-ratelimit-remaining': String(remaining),
    });
    if (this.arrivals.length >= limit.limit) {
      const freeInMs = this.arrivals[0]! + limit.windowMs - at;
      const limited: ChaosStep = {
        status: 429,
        headers: quota(0),
        ...(limit.retryAfter && { retryAfter: Math.max(1, Math.ceil(freeInMs / 1000)) }),
        body: {
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: randomUUID(),
          policyName: 'TEN_SECONDLY_ROLLING',
          requestId: randomUUID(),
        },
      };
      return { limited };
    }
    this.arrivals.push(at);
    return { quota: quota(limit.limit - this.arrivals.length) };
  }

  private answer(
    req: IncomingMessage,
    res: ServerResponse,
    request: ChaosRequest,
    step: ChaosStep,
    quota: Record<string, string> | undefined,
  ): void {
    if (step.reset) {
      req.socket.destroy();
      return;
    }
    if (step.hang) return;
    const send = () => this.send(res, step, quota, request);
    if (step.delayMs && step.delayMs > 0) setTimeout(send, step.delayMs);
    else send();
  }

  private send(
    res: ServerResponse,
    step: ChaosStep,
    quota?: Record<string, string>,
    request?: ChaosRequest,
  ): void {
    if (res.destroyed) return;
    const status = step.status ?? 200;
    const body =
      step.body === undefined
        ? status === 204 || status === 304
          ? undefined
          : { ok: status < 400, method: request?.method, url: request?.url, n: this.stats.requests }
        : step.body;
    const headers: Record<string, string> = { ...quota, ...step.headers };
    if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);
    let payload = '';
    if (body !== undefined) {
      if (typeof body === 'string') {
        payload = body;
        headers['content-type'] ??= 'text/plain; charset=utf-8';
      } else {
        payload = JSON.stringify(body);
        headers['content-type'] ??= 'application/json';
      }
    }
    res.writeHead(status, headers);
    res.end(payload);
  }
}

export async function startChaosUpstream(options: ChaosUpstreamOptions = {}): Promise<ChaosUpstream> {
  return new ChaosUpstream(options).listen(options.port);
}
