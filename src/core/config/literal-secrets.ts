import { type AuthScheme, SECRET_FIELDS } from './connections.js';
import { formatPath } from './format-path.js';

/** A header whose name says it carries a credential. */
const CREDENTIAL_HEADER = /auth|token|key|secret|password|signature/i;
/** A `${NAME}` reference (a `$${` is a literal `${`, not one). */
const REFERENCE = /(?<!\$)\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/;

/**
 * Paths of the secrets written in the configuration file itself rather than as `${ENV}` references: the
 * admin token, signing secrets, connection credentials, credential headers, SMTP passwords, passwords in
 * database and Redis URLs. It reads the file as parsed, before interpolation; a `.js` config builds its values in
 * code, so it is not read.
 */
export function literalSecretPaths(raw: unknown): string[] {
  const found: string[] = [];
  const check = (value: unknown, path: (string | number)[]): void => {
    if (typeof value === 'string' && value !== '' && !REFERENCE.test(value)) found.push(formatPath(path));
  };
  const checkAll = (values: unknown, path: (string | number)[]): void => {
    if (Array.isArray(values)) for (const [j, v] of values.entries()) check(v, [...path, j]);
  };
  const list = (value: unknown): Record<string, unknown>[] =>
    Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => isObject(v)) : [];
  const root = isObject(raw) ? raw : {};
  const section = (name: string) => (isObject(root[name]) ? root[name] : {});

  check(section('server').adminToken, ['server', 'adminToken']);
  for (const [name, at] of [
    ['database', ['database', 'url']],
    ['redis', ['redis', 'url']],
  ] as const) {
    const url = section(name).url;
    if (typeof url === 'string' && /^[a-z]+:\/\/[^/@]*:[^/@]+@/i.test(url) && !REFERENCE.test(url))
      found.push(formatPath(at));
  }
  list(root.sources).forEach((source, i) => {
    if (!isObject(source.verify)) return;
    checkAll(source.verify.secrets, ['sources', i, 'verify', 'secrets']);
  });
  list(root.destinations).forEach((d, i) => {
    check(d.secret, ['destinations', i, 'secret']);
    checkAll(d.secrets, ['destinations', i, 'secrets']);
    if (isObject(d.email)) check(d.email.password, ['destinations', i, 'email', 'password']);
    if (isObject(d.headers)) {
      for (const [name, value] of Object.entries(d.headers))
        if (CREDENTIAL_HEADER.test(name)) check(value, ['destinations', i, 'headers', name]);
    }
  });
  list(root.connections).forEach((c, i) => {
    if (!isObject(c.auth)) return;
    const fields = SECRET_FIELDS[c.auth.scheme as AuthScheme] ?? [];
    for (const field of fields) check(c.auth[field], ['connections', i, 'auth', field]);
  });
  return found;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
