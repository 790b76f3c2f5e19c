/**
 * Finale writes timestamps without a time zone (`2018-07-30T17:57:29`); the fake's are UTC. Filters
 * compare them as text, which sorts in time order because every one has the same width.
 */
export function finaleTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

const FINALE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?$/;

/** A Finale timestamp (no zone, read as UTC) as epoch ms, or undefined when it is not one. */
export function parseFinaleTime(text: unknown): number | undefined {
  if (typeof text !== 'string' || !FINALE_TIME.test(text)) return undefined;
  const ms = Date.parse(`${text}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}
