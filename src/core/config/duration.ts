import { z } from 'zod';
import { parseDuration } from './units.js';

/** How a malformed duration is told: `<what> must be a duration like "500ms", "5s", "2h" or "7d", got <value>`. */
export function durationIssue(what: string, value: unknown, orElse?: string): string {
  const like = `"500ms", "5s", "2h" or "7d"${orElse ? `, or ${orElse}` : ''}`;
  return `${what} must be a duration like ${like}, got ${JSON.stringify(value)}`;
}

/**
 * A duration field of the config file or a sync model's options: `"90s"`, `"1h30m"` or a number of ms,
 * parsed to ms; a malformed one is an issue naming `what` (`durationIssue`).
 */
export const durationSchema = (what: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: durationIssue(what, value) });
      return z.NEVER;
    }
    return ms;
  });
