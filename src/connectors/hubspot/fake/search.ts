import { validation } from './fake-errors.js';
import type { PropertyDefinition } from './object-types.js';

/** The search API's published limits (https://developers.hubspot.com/docs/api/crm/search). */
export const SEARCH_LIMITS = {
  filterGroups: 5,
  filtersPerGroup: 6,
  filters: 18,
  pageSize: 200,
  results: 10_000,
  bodyChars: 3000,
} as const;

export const OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;

interface Filter {
  propertyName: string;
  operator: (typeof OPERATORS)[number];
  value?: unknown;
  values?: unknown[];
  highValue?: unknown;
}

export interface SearchPlan {
  groups: Filter[][];
  sort?: { propertyName: string; descending: boolean };
  query?: string;
}

/** Reads `filterGroups`, `sorts` and `query`, refusing what HubSpot refuses, each with a 400. */
export function planSearch(
  body: Record<string, unknown>,
  properties: ReadonlyMap<string, PropertyDefinition>,
): SearchPlan {
  const groups = body.filterGroups ?? [];
  if (!Array.isArray(groups)) throw validation('filterGroups must be an array');
  if (groups.length > SEARCH_LIMITS.filterGroups) {
    throw validation(
      `Too many filter groups: ${groups.length}; the maximum is ${SEARCH_LIMITS.filterGroups}`,
    );
  }
  let total = 0;
  const plan: SearchPlan = {
    groups: groups.map((group, g) => {
      const filters = (group as { filters?: unknown })?.filters ?? [];
      if (!Array.isArray(filters)) throw validation(`filterGroups[${g}].filters must be an array`);
      if (filters.length > SEARCH_LIMITS.filtersPerGroup) {
        throw validation(
          `Too many filters in group ${g}: ${filters.length}; the maximum is ${SEARCH_LIMITS.filtersPerGroup}`,
        );
      }
      total += filters.length;
      return filters.map((f) => checkFilter(f, properties));
    }),
  };
  if (total > SEARCH_LIMITS.filters) {
    throw validation(`Too many filters: ${total} in all; the maximum is ${SEARCH_LIMITS.filters}`);
  }
  const sorts = body.sorts ?? [];
  if (!Array.isArray(sorts)) throw validation('sorts must be an array');
  if (sorts.length > 1) throw validation('Only one sort is allowed');
  if (sorts[0] !== undefined) plan.sort = readSort(sorts[0]);
  if (typeof body.query === 'string' && body.query.trim() !== '')
    plan.query = body.query.trim().toLowerCase();
  return plan;
}

function checkFilter(input: unknown, properties: ReadonlyMap<string, PropertyDefinition>): Filter {
  const f = input as Partial<Filter> | null;
  if (!f || typeof f.propertyName !== 'string') throw validation('Each filter needs a propertyName');
  if (!properties.has(f.propertyName))
    throw validation(`There is no property ${f.propertyName} to filter on`);
  if (!OPERATORS.includes(f.operator as Filter['operator'])) {
    throw validation(`${String(f.operator)} is not an operator; use one of ${OPERATORS.join(', ')}`);
  }
  if ((f.operator === 'IN' || f.operator === 'NOT_IN') && !Array.isArray(f.values)) {
    throw validation(`${f.operator} takes values, an array`);
  }
  return f as Filter;
}

function readSort(input: unknown): SearchPlan['sort'] {
  let sort = input;
  if (typeof input === 'string' && input.startsWith('{')) {
    try {
      sort = JSON.parse(input);
    } catch {
      throw validation(`sort ${input.slice(0, 40)} is not valid`);
    }
  }
  if (typeof sort === 'string') {
    return sort.startsWith('-')
      ? { propertyName: sort.slice(1), descending: true }
      : { propertyName: sort, descending: false };
  }
  const s = sort as { propertyName?: unknown; direction?: unknown };
  if (typeof s?.propertyName !== 'string') throw validation('A sort needs a propertyName');
  return { propertyName: s.propertyName, descending: s.direction === 'DESCENDING' };
}

/** Does a record's indexed values match the plan (any group, every filter of it)? */
export function matches(
  plan: SearchPlan,
  values: Readonly<Record<string, string>>,
  properties: ReadonlyMap<string, PropertyDefinition>,
  searchable: readonly string[],
): boolean {
  if (plan.query && !searchable.some((p) => values[p]?.toLowerCase().includes(plan.query!))) return false;
  if (plan.groups.length === 0) return true;
  return plan.groups.some((group) =>
    group.every((f) => test(f, values[f.propertyName], properties.get(f.propertyName)!)),
  );
}

function test(filter: Filter, actual: string | undefined, definition: PropertyDefinition): boolean {
  const present = actual !== undefined && actual !== '';
  switch (filter.operator) {
    case 'HAS_PROPERTY':
      return present;
    case 'NOT_HAS_PROPERTY':
      return !present;
    case 'NEQ':
      return !present || compare(actual, filter.value, definition) !== 0;
    case 'NOT_IN':
      return !present || !(filter.values ?? []).some((v) => compare(actual, v, definition) === 0);
    case 'NOT_CONTAINS_TOKEN':
      return !present || !containsToken(actual, filter.value);
  }
  if (!present) return false;
  switch (filter.operator) {
    case 'EQ':
      return compare(actual, filter.value, definition) === 0;
    case 'LT':
      return compare(actual, filter.value, definition) < 0;
    case 'LTE':
      return compare(actual, filter.value, definition) <= 0;
    case 'GT':
      return compare(actual, filter.value, definition) > 0;
    case 'GTE':
      return compare(actual, filter.value, definition) >= 0;
    case 'BETWEEN':
      return (
        compare(actual, filter.value, definition) >= 0 && compare(actual, filter.highValue, definition) <= 0
      );
    case 'IN':
      return (filter.values ?? []).some((v) => compare(actual, v, definition) === 0);
    case 'CONTAINS_TOKEN':
      return containsToken(actual, filter.value);
  }
  return false;
}

/** Numbers and dates compare as numbers (dates as ms, given as ms or ISO); text case-insensitively. */
export function compare(actual: string, expected: unknown, definition: PropertyDefinition): number {
  const e = String(expected ?? '');
  if (definition.type === 'number') return Number(actual) - Number(e);
  if (definition.type === 'date' || definition.type === 'datetime') return toMs(actual) - toMs(e);
  const a = actual.toLowerCase();
  const b = e.toLowerCase();
  return a < b ? -1 : a > b ? 1 : 0;
}

export function toMs(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}

function containsToken(actual: string, token: unknown): boolean {
  const pattern = String(token ?? '')
    .toLowerCase()
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*');
  const re = new RegExp(`^${pattern}$`);
  return (
    actual
      .toLowerCase()
      .split(/[\s@.,;:_-]+/)
      .some((t) => re.test(t)) || re.test(actual.toLowerCase())
  );
}
