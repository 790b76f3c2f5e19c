/**
 * The target of `rel="next"` in an RFC 8288 `Link` header (GitHub's pagination), or undefined. Quoted
 * and unquoted `rel` values and several relation types in one `rel` are understood.
 */
export function nextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params = match[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params);
    const values = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (values.includes('next')) return match[1];
  }
  return undefined;
}
