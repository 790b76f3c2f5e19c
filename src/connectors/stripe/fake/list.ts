import type { ParamReader } from './param-reader.js';
import { noSuch, paramError } from './stripe-errors.js';

/** The parameters every list endpoint takes. */
export const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'created'] as const;

/**
 * Stripe's list answer `{ object: "list", url, has_more, data }`, newest first. `limit` is 1–100
 * (default 10); `starting_after` is the last object of the previous page (exclusive), `ending_before`
 * the first of the next one (exclusive, paging back); the two cannot be combined.
 * https://docs.stripe.com/api/pagination
 */
export function listOf<T extends { id: string; created: number }>(
  all: readonly T[],
  reader: ParamReader,
  url: string,
  noun: string,
) {
  const limit = reader.integer('limit', { min: 1, max: 100 }) ?? 10;
  const after = reader.string('starting_after');
  const before = reader.string('ending_before');
  if (after !== undefined && before !== undefined) {
    throw paramError(
      'You may only specify one of these parameters: ending_before, starting_after.',
      'ending_before',
    );
  }
  const created = reader.created();
  const items = all.filter((item) => created(item.created));
  let data: T[];
  let hasMore: boolean;
  if (before !== undefined) {
    const index = items.findIndex((item) => item.id === before);
    if (index < 0) throw noSuch(noun, before, 'ending_before');
    data = items.slice(Math.max(0, index - limit), index);
    hasMore = index - limit > 0;
  } else {
    const index = after === undefined ? -1 : items.findIndex((item) => item.id === after);
    if (after !== undefined && index < 0) throw noSuch(noun, after, 'starting_after');
    data = items.slice(index + 1, index + 1 + limit);
    hasMore = index + 1 + limit < items.length;
  }
  return { object: 'list' as const, data, has_more: hasMore, url };
}
