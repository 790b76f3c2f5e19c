/**
 * Destination filters on `<sourceId>.<type>` (e.g. `gh.push`, `crm.contact.propertyChange`):
 * - a plain segment matches itself;
 * - `*` matches exactly one segment, except as the last segment where it matches one or more
 *   (`crm.contact.*` matches `crm.contact.creation` and `crm.contact.property.changed`);
 * - `**` matches zero or more segments anywhere;
 * - `*` alone matches every event.
 * A destination with no filters receives every event.
 */
export type EventMatcher = (name: string) => boolean;

const SEGMENT = /^[A-Za-z0-9_:-]+$/;

export function validatePattern(pattern: string): string | undefined {
  if (pattern === '*' || pattern === '**') return undefined;
  const parts = pattern.split('.');
  for (const part of parts) {
    if (part !== '*' && part !== '**' && !SEGMENT.test(part)) {
      return `event filter "${pattern}" has an invalid segment "${part}" (use letters, digits, "_:-", "*" or "**")`;
    }
  }
  return undefined;
}

function matchParts(pattern: readonly string[], name: readonly string[], p = 0, n = 0): boolean {
  if (p === pattern.length) return n === name.length;
  const part = pattern[p]!;
  if (part === '**') {
    for (let skip = n; skip <= name.length; skip++) if (matchParts(pattern, name, p + 1, skip)) return true;
    return false;
  }
  if (n === name.length) return false;
  if (part === '*') {
    if (p === pattern.length - 1) return true; // trailing *: one or more segments
    return matchParts(pattern, name, p + 1, n + 1);
  }
  return part === name[n] && matchParts(pattern, name, p + 1, n + 1);
}

export function compileFilters(patterns: readonly string[] | undefined): EventMatcher {
  if (patterns === undefined || patterns.length === 0) return () => true;
  if (patterns.includes('*') || patterns.includes('**')) return () => true;
  const compiled = patterns.map((p) => p.split('.'));
  return (name) => {
    const parts = name.split('.');
    return compiled.some((pattern) => matchParts(pattern, parts));
  };
}
