/**
 * The shapes a request takes on its way through the client: what the caller passes (`HttpRequest`),
 * what each interceptor sees (`HttpCall`) and what comes back (`HttpResponse`).
 */
import type { AttemptTimer } from './attempt-timer.js';

/** Anything with zod's `safeParse` (kept structural so zod's types stay at the edge). */
export interface ResponseSchema<T> {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

export type QueryValue = string | number | boolean | null | undefined;

export interface HttpRequest<T = unknown> {
  /** Defaults to GET. */
  method?: string;
  /**
   * Relative to `baseUrl` (`/crm/v3/objects/contacts`). An absolute URL is accepted only on the base
   * URL's origin (a pagination link), never another host: credentials must not leave for it.
   */
  path: string;
  /** Added to the URL's query; arrays repeat the parameter; undefined/null values are left out. */
  query?: Readonly<Record<string, QueryValue | readonly QueryValue[]>>;
  headers?: Readonly<Record<string, string>>;
  /** A plain object or array is sent as JSON; a string, Buffer or Uint8Array as is. */
  body?: unknown;
  /** Sent as `Idempotency-Key`; lets a POST (or PATCH) be retried like an idempotent request. */
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** Validates (and types) the parsed body; a mismatch fails with `RESPONSE_INVALID`. */
  schema?: ResponseSchema<T>;
  /**
   * Resolve once a 2xx answer's headers are in, with the body as a stream (`AsyncIterable<Buffer>`,
   * unread) instead of reading it: server-sent events, long downloads. The attempt's timeout covers
   * the wait for the headers; the gaps between chunks are the dispatcher's body timeout; `signal`
   * still ends the stream. Answers that are not a success are read whole and thrown as usual. The
   * caller must consume or destroy the body. Exclusive with `schema`.
   */
  stream?: boolean;
  /**
   * With `stream`: the most bytes the body may have. A `Content-Length` over it fails with
   * `RESPONSE_TOO_LARGE` before any byte is read; an undeclared length fails the stream at the first
   * byte past it (attachments, exports). Defaults to no bound.
   */
  maxBodyBytes?: number;
}

export interface HttpResponse<T = unknown> {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON when the response is JSON, a string for text, a Buffer otherwise, undefined when empty. */
  body: T;
  /** True for a 207 or a 2xx batch answer that carries per-item errors (see `batch`). */
  partial: boolean;
  /** Attempts this call took, retries and the 401 refresh included. */
  attempts: number;
}

/** One call as the interceptors see it. Interceptors return a new object rather than mutate it. */
export interface HttpCall {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer | Uint8Array | undefined;
  /** May a transient failure be retried (idempotent method, or an idempotency key)? */
  readonly replayable: boolean;
  /** A 2xx body is handed up unread, as a stream (`HttpRequest.stream`). */
  readonly stream: boolean;
  /** `HttpRequest.maxBodyBytes`, for a streamed body. */
  readonly maxBodyBytes: number | undefined;
  /** The caller's signal, narrowed by the retry deadline and the attempt's timeout on the way in. */
  readonly signal: AbortSignal;
  /** Epoch ms after which nothing new starts (waiting for a slot included). */
  readonly deadline: number;
  /**
   * Bounds this attempt when the timeout stage did not narrow `signal` (see `AttemptTimer`); the
   * transport clears it when the attempt is over.
   */
  readonly attemptTimer?: AttemptTimer;
  /** Shared by every stage of one call. */
  readonly state: CallState;
}

export interface CallState {
  attempts: number;
  /** Query parameter names whose values are secrets (from the auth provider), for redaction. */
  readonly secretParams: string[];
  /** Secret values to scrub from messages and bodies. */
  readonly secrets: string[];
}

/**
 * The response as the transport hands it up: only success (2xx, 304) or partial; anything else is
 * thrown. Without a schema it is what `request` resolves to.
 */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  partial: boolean;
  /** The call's attempts so far, this one included — all of them, since a success ends the call. */
  attempts: number;
}

export type Handler = (call: HttpCall) => Promise<RawResponse>;
/** A cross-cutting concern: wraps the next handler (`dispatch => dispatch`, as undici's interceptors). */
export type Interceptor = (next: Handler) => Handler;
