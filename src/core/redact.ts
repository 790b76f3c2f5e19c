/**
 * Redaction of secrets from URLs and headers before they reach a log line, an error message or the
 * event log. Names are matched case-insensitively.
 */
const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|x-auth-token|x-hub-signature(-256)?|x-hubspot-signature(-v3)?|stripe-signature|x-slack-signature|webhook-signature|x-signature)$/i;
const SECRET_PARAM =
  /^(access_token|refresh_token|id_token|token|api_key|apikey|key|client_secret|password|secret|sig|signature|code|hapikey)$/i;

export const REDACTED = '[redacted]';

export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
  extra: readonly string[] = [],
): Record<string, string> {
  const extraLower = new Set(extra.map((h) => h.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const secret = isSecretHeader(name) || extraLower.has(name.toLowerCase());
    out[name] = secret ? REDACTED : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Replaces the values of secret-looking query parameters and any userinfo in a URL. */
export function redactUrl(url: string, extraParams: readonly string[] = []): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/([?&][^=&]*(?:token|key|secret|password|sig)[^=&]*=)[^&]*/gi, `$1${REDACTED}`);
  }
  if (parsed.username || parsed.password) {
    parsed.username = REDACTED;
    parsed.password = '';
  }
  const extra = new Set(extraParams.map((p) => p.toLowerCase()));
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name) || extra.has(name.toLowerCase())) parsed.searchParams.set(name, REDACTED);
  }
  return parsed.toString();
}

/** Replaces every occurrence of each known secret value in `text`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}
