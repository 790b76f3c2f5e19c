import { ErrorCode, PatchbayError } from '../../core/errors.js';

/** What a caller may write as a property value; HubSpot stores and answers strings. */
export type PropertyInput = string | number | boolean | bigint | Date | null | undefined;

/**
 * Property values as HubSpot takes them: strings as they are, numbers and booleans as text, a Date
 * as epoch ms (how HubSpot writes datetimes), null as "" (which clears the value); undefined leaves the
 * property out. Anything else is refused naming the field, never sent to become a 400 later.
 */
export function toPropertyValues(values: unknown, where = 'properties'): Record<string, string> {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `${where} must be an object of property names to values`,
    );
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (typeof value === 'string') out[name] = value;
    else if (value === null) out[name] = '';
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw refused(where, name, String(value));
      out[name] = String(value);
    } else if (typeof value === 'boolean' || typeof value === 'bigint') out[name] = String(value);
    else if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) throw refused(where, name, 'an invalid Date');
      out[name] = String(value.getTime());
    } else throw refused(where, name, Array.isArray(value) ? 'an array' : typeof value);
  }
  return out;
}

function refused(where: string, name: string, got: string): PatchbayError {
  return new PatchbayError(
    ErrorCode.INVALID_ARGUMENT,
    `${where}.${name} must be a string, number, boolean, Date or null (got ${got}); HubSpot stores every value as text — join multiple checkbox values with ";"`,
  );
}
