/**
 * Who is calling. GitHub takes `Authorization: token <t>` or `Bearer <t>` (and Basic with the token as
 * the password). The fake accepts any token of GitHub's forms — `ghp_` classic and `github_pat_`
 * fine-grained personal tokens, `gho_` OAuth, `ghu_`/`ghs_` app tokens, and the legacy 40 hex digits —
 * as the one fake user; anything else is "Bad credentials".
 * https://docs.github.com/rest/authentication/authenticating-to-the-rest-api
 */
export type Caller = { kind: 'token'; token: string } | { kind: 'anonymous' } | { kind: 'bad' };

const TOKEN = /^(?:gh[pousr]_[A-Za-z0-9]{20,251}|github_pat_[A-Za-z0-9_]{22,244}|[0-9a-f]{40})$/;

export function callerOf(header: string | undefined): Caller {
  if (header === undefined || header.trim() === '') return { kind: 'anonymous' };
  const match = /^\s*(\w+)\s+(\S+)\s*$/.exec(header);
  if (!match) return { kind: 'bad' };
  const scheme = match[1]!.toLowerCase();
  let token = match[2]!;
  if (scheme === 'basic') {
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    token = decoded.slice(decoded.indexOf(':') + 1);
  } else if (scheme !== 'token' && scheme !== 'bearer') {
    return { kind: 'bad' };
  }
  return TOKEN.test(token) ? { kind: 'token', token } : { kind: 'bad' };
}

export function isTokenForm(token: string): boolean {
  return TOKEN.test(token);
}
