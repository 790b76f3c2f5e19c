import { ErrorCode, PatchbayError } from '../core/errors.js';
import { invalidOption } from '../resilience/options.js';
import { checkHeaders } from './client-options.js';
import type { HttpRequest, QueryValue } from './http-types.js';

/** Methods that may be repeated without changing the outcome (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export interface BuiltRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | Buffer | Uint8Array | undefined;
  replayable: boolean;
}

/**
 * Turns a caller's request into what goes on the wire, refusing what would be unsafe: a path that
 * leaves the base URL's origin, a method that is not a token, header values that would inject headers.
 */
export function buildRequest(
  base: URL,
  defaults: Readonly<Record<string, string>>,
  request: HttpRequest,
): BuiltRequest {
  if (typeof request !== 'object' || request === null) throw invalidOption('request', 'an object', request);
  const method = (request.method ?? 'GET').toUpperCase();
  if (!/^[A-Z]+$/.test(method))
    throw invalidOption('request.method', 'an HTTP method such as "GET"', request.method);
  const url = resolvePath(base, request.path);
  appendQuery(url, request.query);
  const headers = { ...defaults, ...checkHeaders('request.headers', request.headers) };
  if (request.idempotencyKey !== undefined) {
    if (typeof request.idempotencyKey !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(request.idempotencyKey)) {
      throw invalidOption(
        'request.idempotencyKey',
        '1 to 255 visible ASCII characters',
        request.idempotencyKey,
      );
    }
    headers['idempotency-key'] = request.idempotencyKey;
  }
  const body = encodeBody(request.body, headers);
  return {
    method,
    url,
    headers,
    body,
    replayable: IDEMPOTENT.has(method) || request.idempotencyKey !== undefined,
  };
}

/** A relative path goes under the base URL's path; an absolute URL must be on the base URL's origin. */
export function resolvePath(base: URL, path: unknown): URL {
  if (typeof path !== 'string') throw invalidOption('request.path', 'a string', path);
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    let url: URL;
    try {
      url = new URL(path);
    } catch {
      throw invalidOption('request.path', 'a path or a URL on the base URL', path);
    }
    if (url.origin !== base.origin) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `request.path points at ${url.origin}, not the client's ${base.origin}; the client only sends its credentials to its own upstream`,
      );
    }
    url.hash = '';
    return url;
  }
  if (path.includes('#')) throw invalidOption('request.path', 'a path without a #fragment', path);
  const basePath = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  const [pathname = '', search] = splitOnce(path, '?');
  const fullPath = `${basePath}/${pathname.replace(/^\/+/, '')}`;
  // One parse of the whole URL costs half of parsing the origin and then setting the path, and gives
  // the same URL — except that a whole-URL parse trims a trailing space or control character, which
  // the setter keeps (percent-encoded), so such a path still goes through the setter.
  let url: URL;
  if (fullPath.charCodeAt(fullPath.length - 1) > 0x20) {
    url = new URL(`${base.origin}${fullPath}`);
  } else {
    url = new URL(base.origin);
    url.pathname = fullPath;
  }
  // Most calls have no query at all; URLSearchParams is the dearest step here.
  if (search === undefined && base.search === '') return url;
  const params = new URLSearchParams(base.search);
  if (search !== undefined) for (const [k, v] of new URLSearchParams(search)) params.append(k, v);
  url.search = params.toString();
  return url;
}

function splitOnce(value: string, separator: string): [string, string | undefined] {
  const index = value.indexOf(separator);
  return index < 0 ? [value, undefined] : [value.slice(0, index), value.slice(index + 1)];
}

function appendQuery(url: URL, query: HttpRequest['query']): void {
  if (query === undefined) return;
  if (typeof query !== 'object' || query === null) throw invalidOption('request.query', 'an object', query);
  const add = (name: string, value: QueryValue) => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalidOption(`request.query.${name}`, 'a string, number or boolean', value);
    }
    url.searchParams.append(name, String(value));
  };
  for (const [name, value] of Object.entries(query)) {
    if (Array.isArray(value)) for (const item of value) add(name, item);
    else add(name, value as QueryValue);
  }
}

function encodeBody(body: unknown, headers: Record<string, string>): BuiltRequest['body'] {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (typeof body === 'object') {
    headers['content-type'] ??= 'application/json';
    return JSON.stringify(body);
  }
  throw invalidOption('request.body', 'an object, array, string, Buffer or Uint8Array', body);
}
