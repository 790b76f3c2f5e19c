import { CliError } from './output.js';

/** `--limit`: an integer from 1 to `max`, named in the message when it is not. */
export function parseLimit(value: string, max: number, option = '--limit'): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new CliError(`${option} must be an integer from 1 to ${max}, got "${value}"`);
  return limit;
}

/** `--status` and the like: one of a few words. */
export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], option: string) {
  if (value !== undefined && !allowed.includes(value as T))
    throw new CliError(`${option} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T | undefined;
}

export const printJson = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** The line after a table when a list goes on. */
export function printMore(nextCursor: string | undefined): void {
  if (nextCursor) process.stdout.write(`(more: --cursor ${nextCursor})\n`);
}

/** Path segment for an id given on the command line. */
export const seg = (id: string) => encodeURIComponent(id);
