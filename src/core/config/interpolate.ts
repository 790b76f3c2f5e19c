/**
 * `${NAME}` references in config strings are replaced by environment variables, so secrets never have to
 * be written in the file. `${NAME:-default}` gives a default; `$${` is a literal `${`. A reference to an
 * unset variable is a problem reported with its path, not an empty string.
 */
export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
  /** The unset variable. */
  variable: string;
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(
  value: unknown,
  env: Record<string, string | undefined>,
  problems: InterpolationProblem[],
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$${') return '${';
      const found = env[name!];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path, message: `environment variable ${name} is not set`, variable: name! });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      out[key] = interpolate(item, env, problems, [...path, key]);
    return out;
  }
  return value;
}
