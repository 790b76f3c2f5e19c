import type { z } from 'zod';
import { ErrorCode, PatchbayError } from '../../../core/errors.js';
import type { HttpRequest } from '../../../http/http-types.js';
import { type HubSpotObject, searchPageSchema } from '../schemas.js';

/** The search API's limits (https://developers.hubspot.com/docs/api/crm/search). */
export const SEARCH_LIMITS = {
  filterGroups: 5,
  filtersPerGroup: 6,
  filters: 18,
  pageSize: 200,
  results: 10_000,
  bodyChars: 3000,
} as const;

export type SearchOperator =
  | 'EQ'
  | 'NEQ'
  | 'LT'
  | 'LTE'
  | 'GT'
  | 'GTE'
  | 'BETWEEN'
  | 'IN'
  | 'NOT_IN'
  | 'HAS_PROPERTY'
  | 'NOT_HAS_PROPERTY'
  | 'CONTAINS_TOKEN'
  | 'NOT_CONTAINS_TOKEN';

export interface SearchFilter {
  propertyName: string;
  operator: SearchOperator;
  value?: string | number;
  values?: readonly (string | number)[];
  highValue?: string | number;
}

export interface SearchQuery {
  /** Any group may match; every filter of a group must. */
  filterGroups?: readonly { filters: readonly SearchFilter[] }[];
  /** One sort at most (HubSpot's rule). */
  sort?: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' };
  /** Free text over the type's searchable properties. */
  query?: string;
  properties?: readonly string[];
  /** Up to 200. Defaults to 100. */
  limit?: number;
  /** The offset of the page, from the previous page's `after`. */
  after?: string;
}

function refuse(message: string): PatchbayError {
  return new PatchbayError(ErrorCode.INVALID_ARGUMENT, `HubSpot search: ${message}`);
}

/**
 * `POST /crm/v3/objects/{type}/search`, checked against the API's limits before it is sent: a query
 * HubSpot would refuse with a 400 fails here with the limit named, and costs no request.
 */
export function searchRequest(
  type: string,
  search: SearchQuery,
): HttpRequest<z.output<typeof searchPageSchema>> {
  const groups = search.filterGroups ?? [];
  if (groups.length > SEARCH_LIMITS.filterGroups) {
    throw refuse(`${groups.length} filter groups; at most ${SEARCH_LIMITS.filterGroups}`);
  }
  groups.forEach((g, i) => {
    if (g.filters.length > SEARCH_LIMITS.filtersPerGroup) {
      throw refuse(`group ${i} has ${g.filters.length} filters; at most ${SEARCH_LIMITS.filtersPerGroup}`);
    }
  });
  const total = groups.reduce((n, g) => n + g.filters.length, 0);
  if (total > SEARCH_LIMITS.filters)
    throw refuse(`${total} filters in all; at most ${SEARCH_LIMITS.filters}`);
  const limit = search.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMITS.pageSize) {
    throw refuse(`limit must be 1 to ${SEARCH_LIMITS.pageSize} (got ${limit})`);
  }
  if (search.after !== undefined && Number(search.after) >= SEARCH_LIMITS.results) {
    throw refuse(
      `a query returns at most ${SEARCH_LIMITS.results} results; use searchAll, which windows past them`,
    );
  }
  const body = {
    filterGroups: groups.map((g) => ({ filters: g.filters.map((f) => ({ ...f })) })),
    sorts: search.sort ? [search.sort] : [],
    ...(search.query !== undefined && { query: search.query }),
    properties: search.properties ?? [],
    limit,
    ...(search.after !== undefined && { after: search.after }),
  };
  const text = JSON.stringify(body);
  if (text.length > SEARCH_LIMITS.bodyChars) {
    throw refuse(
      `the request is ${text.length} characters; at most ${SEARCH_LIMITS.bodyChars} (fewer filter values or properties)`,
    );
  }
  return {
    method: 'POST',
    path: `/crm/v3/objects/${encodeURIComponent(type)}/search`,
    body: text,
    headers: { 'content-type': 'application/json' },
    schema: searchPageSchema,
  };
}

export function processSearch(body: z.output<typeof searchPageSchema>): {
  total: number;
  results: HubSpotObject[];
  after: string | undefined;
} {
  return { total: body.total, results: body.results, after: body.paging?.next?.after };
}
