import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import type { Clock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { Classifier } from '../resilience/classification.js';
import { NEVER_ABORTED } from '../resilience/timers.js';
import type { Handler, HttpCall, RawResponse } from './http-types.js';
import { errorFromFailure, errorFromResponse } from './response-errors.js';
import type { UpstreamErrorReader, UpstreamErrorReading } from './upstream-error.js';

/**
 * The innermost stage: one attempt on the undici dispatcher. It answers only successes (2xx, 304) and
 * partial batch answers; every other outcome is thrown as a `PatchbayError`, classified once here.
 * Redirects are not followed: a redirect to another host would carry the credentials there.
 */
export function transport(
  dispatcher: Dispatcher,
  classifier: Classifier,
  clock: Clock,
  readError?: UpstreamErrorReader,
): Handler {
  const refused = (
    call: HttpCall,
    status: number,
    headers: Record<string, string>,
    payload: string | Buffer,
  ) => {
    const text = payload.toString('utf8');
    const now = clock.now();
    let reading: UpstreamErrorReading | undefined;
    try {
      reading = readError?.({ status, headers, body: text }, now);
    } catch {
      // A reader that trips on a body it did not expect must not hide the upstream's answer.
    }
    const classification = reading?.classification ?? classifier.response({ status, headers });
    return errorFromResponse(call, status, headers, text, classification, now, reading);
  };
  return async (call: HttpCall): Promise<RawResponse> => {
    call.state.attempts++;
    let response: Dispatcher.ResponseData;
    let headers: Record<string, string>;
    let kind: BodyKind;
    let payload: string | Buffer;
    try {
      response = await dispatcher.request({
        origin: call.url.origin,
        path: `${call.url.pathname}${call.url.search}`,
        method: call.method as Dispatcher.HttpMethod,
        headers: call.headers,
        body: call.body ?? null,
        // No signal at all rather than one that never aborts: undici would listen to it on every call.
        signal: call.attemptTimer ?? (call.signal === NEVER_ABORTED ? undefined : call.signal),
      });
      headers = flattenHeaders(response.headers);
      if (call.stream && response.statusCode >= 200 && response.statusCode < 300) {
        // Handed up unread: the caller reads it (and the finally below ends the attempt's timer).
        return {
          status: response.statusCode,
          headers,
          body:
            call.maxBodyBytes === undefined
              ? response.body
              : bounded(call, response, headers, call.maxBodyBytes),
          partial: false,
          attempts: call.state.attempts,
        };
      }
      kind = bodyKind(headers['content-type'] ?? '');
      // undici decodes text straight from its chunks; only a binary body is copied into a Buffer.
      payload =
        kind === 'binary' ? Buffer.from(await response.body.arrayBuffer()) : await response.body.text();
    } catch (error) {
      throw errorFromFailure(call, error);
    } finally {
      // The attempt is over once its body is in (the timeout stage leaves the timer to us, to spare
      // every call a wrapping promise).
      call.attemptTimer?.clear();
    }
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      const body = decodeBody(payload, kind);
      const classification = classifier.response({ status, headers, body });
      if (classification === 'success' || classification === 'partial') {
        return {
          status,
          headers,
          body,
          partial: classification === 'partial',
          attempts: call.state.attempts,
        };
      }
      throw errorFromResponse(call, status, headers, payload.toString('utf8'), classification, clock.now());
    }
    const classification = classifier.response({ status, headers });
    if (classification === 'success') {
      return {
        status,
        headers,
        body: decodeBody(payload, kind),
        partial: false,
        attempts: call.state.attempts,
      };
    }
    throw refused(call, status, headers, payload);
  };
}

/**
 * A streamed body bounded by `maxBytes`: a declared length over it fails now (before a byte is read),
 * an undeclared one fails the stream at the first byte past it.
 */
function bounded(
  call: HttpCall,
  response: Dispatcher.ResponseData,
  headers: Record<string, string>,
  maxBytes: number,
): Readable {
  const tooLarge = (seen: string) =>
    new PatchbayError(
      ErrorCode.RESPONSE_TOO_LARGE,
      `${call.method} ${call.url.pathname} answered a body of ${seen}, over the ${maxBytes} bytes allowed`,
      { status: response.statusCode, data: { maxBytes } },
    );
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    // Destroying the unread body makes undici report an abort on it: expected, not an error to raise.
    response.body.on('error', () => undefined);
    response.body.destroy();
    throw tooLarge(`${declared} bytes`);
  }
  let seen = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) return done(tooLarge(`more than ${maxBytes} bytes`));
      done(null, chunk);
    },
  });
  pipeline(response.body, limited).catch(() => {
    // The reader sees the error on `limited`; pipeline has destroyed the source.
  });
  return limited;
}

type BodyKind = 'json' | 'text' | 'binary';

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\b/i;
const TEXT_TYPE = /^(text\/|application\/(xml|x-www-form-urlencoded|javascript)\b|[\w.-]+\/[\w.+-]*\+xml\b)/i;

/** JSON, text (no content type counts as text) or anything else, from the content type. */
function bodyKind(contentType: string): BodyKind {
  if (JSON_TYPE.test(contentType)) return 'json';
  if (contentType === '' || TEXT_TYPE.test(contentType)) return 'text';
  return 'binary';
}

/**
 * JSON parsed (a malformed JSON body stays text rather than failing a successful call), text as a
 * string, binary as a Buffer, an empty body as undefined.
 */
export function decodeBody(payload: string | Buffer, kind: BodyKind): unknown {
  if (payload.length === 0) return undefined;
  if (kind !== 'json' || typeof payload !== 'string') return payload;
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

export function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
