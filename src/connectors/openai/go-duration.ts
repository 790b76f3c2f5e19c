const UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000_001,
};

/**
 * A Go duration (`6m0s`, `1.5s`, `12ms`, `1h2m3s`) as ms, rounded up; undefined when it is not one.
 * OpenAI writes its `x-ratelimit-reset-*` headers, and the wait in a 429's message, this way.
 */
export function parseGoDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) return undefined;
  return Math.ceil(parts.reduce((sum, [, value, unit]) => sum + Number(value) * UNIT_MS[unit!]!, 0));
}
