import { ErrorCode, PatchbayError } from '../../core/errors.js';

/** Checks `publicUrl` once, when a verifier is built. */
export function validatePublicUrl(publicUrl: unknown, scheme: string): string | undefined {
  if (publicUrl === undefined) return undefined;
  if (typeof publicUrl !== 'string' || !/^https?:\/\/[^/?#]+/i.test(publicUrl) || !URL.canParse(publicUrl)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `options.publicUrl of scheme "${scheme}" must be an absolute http(s) URL, got ${JSON.stringify(publicUrl)}`,
    );
  }
  if (publicUrl.includes('#')) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `options.publicUrl of scheme "${scheme}" must not have a fragment`,
    );
  }
  return publicUrl;
}

/**
 * The full URL a sender signed. Strings are spliced, never re-serialised through `URL`, because the
 * signature covers the exact characters (case, escapes, parameter order).
 *
 * - an absolute `url` is used as it is;
 * - a `publicUrl` that is only an origin (`https://hooks.example.com` or with `/`) gets the request's path
 *   and query appended as received;
 * - a `publicUrl` with a path is the full URL the provider calls; the request's query is appended when
 *   `publicUrl` has none (a proxy may rewrite the path, but the sender's query reaches us unchanged).
 */
export function signedUrl(publicUrl: string | undefined, url: string | undefined, scheme: string): string {
  if (url !== undefined && /^https?:\/\//i.test(url)) return url;
  if (publicUrl === undefined) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `scheme "${scheme}" signs the request URL: set options.publicUrl or pass the absolute url`,
    );
  }
  if (url === undefined || url === '') return publicUrl;
  const [publicBase, publicQuery] = splitQuery(publicUrl);
  const pathStart = publicBase.indexOf('/', publicBase.indexOf('//') + 2);
  const publicPath = pathStart < 0 ? '' : publicBase.slice(pathStart);
  if (publicPath === '' || publicPath === '/') {
    const origin = pathStart < 0 ? publicBase : publicBase.slice(0, pathStart);
    return origin + (url.startsWith('/') ? url : `/${url}`);
  }
  if (publicQuery !== undefined) return publicUrl;
  const [, requestQuery] = splitQuery(url);
  return requestQuery === undefined ? publicBase : `${publicBase}?${requestQuery}`;
}

function splitQuery(url: string): [string, string | undefined] {
  const q = url.indexOf('?');
  return q < 0 ? [url, undefined] : [url.slice(0, q), url.slice(q + 1)];
}
