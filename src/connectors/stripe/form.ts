import { ErrorCode, PatchbayError } from '../../core/errors.js';

/** A Stripe v1 parameter value: what `formEncode` takes. `null` or `''` unsets a field; `undefined` leaves it out. */
export type FormValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | FormValue[]
  | { [key: string]: FormValue };

/**
 * Stripe's v1 bodies (and list queries) are `application/x-www-form-urlencoded` with brackets for
 * nesting: `metadata[order]=42`, `expand[0]=customer`, `items[0][price]=…`; an empty value unsets.
 * Keys keep the caller's order, so one parameter set always encodes to the same text: Stripe compares a
 * retried request's parameters with the first one under its idempotency key.
 */
export function formEncode(params: Readonly<Record<string, FormValue>>): string {
  return formPairs(params)
    .map(([key, value]) => `${encode(key)}=${encode(value)}`)
    .join('&');
}

/** The bracketed `[key, value]` pairs of a parameter set, in order: a GET's query, or a body's fields. */
export function formPairs(params: Readonly<Record<string, FormValue>>): [string, string][] {
  const pairs: [string, string][] = [];
  const walk = (prefix: string, value: FormValue): void => {
    if (value === undefined) return;
    if (value === null) {
      pairs.push([prefix, '']);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        walk(`${prefix}[${i}]`, item);
      });
    } else if (typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) walk(`${prefix}[${key}]`, item);
    } else if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `Stripe parameter ${prefix} must be a finite number`,
      );
    } else {
      pairs.push([prefix, String(value)]);
    }
  };
  for (const [key, value] of Object.entries(params)) walk(key, value);
  return pairs;
}

/** Brackets stay readable (Stripe takes them either way); everything else is percent-encoded. */
function encode(text: string): string {
  return encodeURIComponent(text).replaceAll('%5B', '[').replaceAll('%5D', ']');
}
