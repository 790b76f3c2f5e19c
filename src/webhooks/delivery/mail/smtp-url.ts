/** An `smtp://` or `smtps://` url: the destination is a mail server, the delivery an e-mail. */
export function isMailUrl(url: URL): boolean {
  return url.protocol === 'smtp:' || url.protocol === 'smtps:';
}

/** The port a mail url dials: its own, else 465 (`smtps:`, TLS from the start) or 587 (submission). */
export function smtpPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'smtps:' ? 465 : 587;
}

/**
 * The url the SSRF rule judges for a destination's url: a mail url as `https:` to its host and port —
 * like https, a mail server needs TLS (`smtps:`, or STARTTLS for `smtp:`) unless its address is inside
 * the allowed networks, and its address is checked against the same blocked ranges.
 */
export function ssrfUrl(url: string | URL): URL {
  const parsed = new URL(url);
  if (!isMailUrl(parsed)) return parsed;
  const judged = new URL(`https://${parsed.host}/`);
  judged.port = String(smtpPort(parsed));
  judged.username = parsed.username;
  judged.password = parsed.password;
  return judged;
}
