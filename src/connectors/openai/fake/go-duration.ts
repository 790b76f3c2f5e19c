/**
 * A duration as Go's `time.Duration.String()` writes it, which is how OpenAI's
 * `x-ratelimit-reset-*` headers read: `12ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`.
 */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${trim(ms)}ms`;
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = `${trim(totalSeconds - hours * 3600 - minutes * 60)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/** Up to three decimals, trailing zeros dropped (`1.5`, `2`, `0.012`). */
function trim(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}
