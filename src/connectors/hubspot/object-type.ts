import { ErrorCode, PatchbayError } from '../../core/errors.js';

/** HubSpot's standard objects by their v3 path names. */
export const STANDARD_OBJECTS = [
  'contacts',
  'companies',
  'deals',
  'tickets',
  'products',
  'line_items',
  'quotes',
  'calls',
  'emails',
  'meetings',
  'notes',
  'tasks',
] as const;

/** `0-1` (a standard object's id), `2-123` (a custom object's), `p123_cars` (a custom object's name). */
const BY_ID = /^(0|2)-\d{1,12}$/;
const CUSTOM = /^p\d{1,12}_[a-z0-9_]{1,100}$/;

/** Checks an object type before it goes into a URL; the message lists what is accepted. */
export function checkObjectType(type: unknown): string {
  if (
    typeof type === 'string' &&
    ((STANDARD_OBJECTS as readonly string[]).includes(type) || BY_ID.test(type) || CUSTOM.test(type))
  ) {
    return type;
  }
  throw new PatchbayError(
    ErrorCode.INVALID_ARGUMENT,
    `${JSON.stringify(type)} is not a HubSpot object type: use ${STANDARD_OBJECTS.slice(0, 4).join(', ')} (or another standard object), a custom object's id ("2-123") or its name ("p123_cars")`,
  );
}

/** The property each type keeps its last-modified time in: contacts have their own name for it. */
export function modifiedProperty(type: string): string {
  return type === 'contacts' || type === '0-1' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
}

/** Where new custom properties go when the caller names no group. */
export function defaultGroup(type: string): string {
  const singular: Record<string, string> = {
    contacts: 'contact',
    companies: 'company',
    deals: 'deal',
    tickets: 'ticket',
  };
  return `${singular[type] ?? 'object'}information`;
}
