/** Destination URLs may carry tokens in their query; the attempts log keeps only scheme, host and path. */
export function redactUrlForLog(url: URL): string {
  // A mail url's origin is "null" (smtp is not a special scheme): its scheme and host say where it went.
  const origin = url.origin === 'null' ? `${url.protocol}//${url.host}` : url.origin;
  return `${origin}${url.pathname}${url.search ? '?…' : ''}`;
}
