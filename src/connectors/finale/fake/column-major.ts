/**
 * Finale's list answers are column-major: one object whose keys each hold an array with one value per
 * entity, in the same order (`{"productId":["A","B"],"productUrl":[…]}`); a nested list becomes an
 * array of arrays. Every field of the collection is present, `null` where an entity has no value.
 */
export function toColumns(rows: readonly Record<string, unknown>[], fields: readonly string[]) {
  const columns: Record<string, unknown[]> = {};
  for (const field of fields) columns[field] = rows.map((row) => row[field] ?? null);
  return columns;
}
