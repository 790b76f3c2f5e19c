import { ErrorCode, PatchbayError } from '../../core/errors.js';

/**
 * Finale's lists are column-major: one object whose keys each hold an array with one value per entity
 * (`{"productId":["A","B"],"productUrl":[…]}`). This turns one into rows, refusing columns of unequal
 * length — a half-read list would otherwise pair one product's id with another's stock.
 */
export function fromColumns(body: unknown, what: string): Record<string, unknown>[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PatchbayError(ErrorCode.RESPONSE_INVALID, `Finale's ${what} list is not an object of columns`);
  }
  const columns = Object.entries(body as Record<string, unknown>);
  const length = columns.length === 0 ? 0 : (columns[0]![1] as unknown[] | undefined)?.length;
  for (const [name, values] of columns) {
    if (!Array.isArray(values) || values.length !== length) {
      throw new PatchbayError(
        ErrorCode.RESPONSE_INVALID,
        `Finale's ${what} list has a column "${name}" of another length than the others`,
      );
    }
  }
  return Array.from({ length: length ?? 0 }, (_, i) =>
    Object.fromEntries(columns.map(([name, values]) => [name, (values as unknown[])[i]])),
  );
}

/** Finale's timestamps carry no zone (`2018-07-30T17:57:29`); Patchbay reads and writes them as UTC. */
export function finaleTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** `?filter=`: base64 of `{ field: [lower, upper] }` (null for an open side). */
export function finaleFilter(field: string, lower: unknown, upper: unknown): string {
  return Buffer.from(JSON.stringify({ [field]: [lower, upper] })).toString('base64');
}
