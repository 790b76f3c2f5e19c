import { z } from 'zod';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import {
  parseJsonBody,
  type UpstreamErrorReader,
  type UpstreamErrorReading,
} from '../../http/upstream-error.js';
import { calendarDay } from '../../resilience/calendar-day.js';
import { CursorExpiredError } from '../../sync/cursor-expired.js';

/**
 * HubSpot's error body (https://developers.hubspot.com/docs/api-reference/error-handling): every
 * field optional, so every field is read as optional.
 */
const errorBody = z
  .object({
    message: z.string().optional(),
    correlationId: z.string().optional(),
    category: z.string().optional(),
    subCategory: z.unknown().optional(),
    errorType: z.string().optional(),
    policyName: z.string().optional(),
  })
  .loose();

/** What the SDK's retry decorator matches for the search bucket's 429 (its body has no `policyName`). */
export const SECONDLY_LIMIT_MESSAGE = 'You have reached your secondly limit.';

/**
 * Reads HubSpot's error answers: the message and category for the error, and what a 429 means.
 * - `policyName: DAILY`: final until midnight in the account's zone (retrying only spends more 429s);
 * - `TEN_SECONDLY_ROLLING`: retry when the rolling window has a slot again (the limiter waits for it);
 * - the search bucket's "secondly limit": wait a second.
 * An unknown-property 400 carries its JSON inside `message`; the names found there ride along.
 */
export function hubspotErrorReader(settings: { timeZone: string }): UpstreamErrorReader {
  return ({ status, body }, now) => {
    const parsed = errorBody.safeParse(parseJsonBody(body));
    if (!parsed.success) return undefined;
    const e = parsed.data;
    const details: Record<string, string> = {};
    for (const key of ['correlationId', 'category', 'policyName'] as const) {
      if (e[key] !== undefined) details[key] = e[key];
    }
    if (typeof e.subCategory === 'string') details.subCategory = e.subCategory;
    const unknown = e.message === undefined ? [] : unknownPropertiesIn(e.message);
    if (unknown.length > 0) details.unknownProperties = unknown.join(',');
    const code = e.category ?? e.errorType;
    const reading: UpstreamErrorReading = {
      ...(e.message !== undefined && { message: e.message }),
      ...(code !== undefined && { code }),
      details,
    };
    if (status !== 429) return reading;
    if (e.policyName === 'DAILY') {
      return {
        ...reading,
        classification: 'permanent',
        retryAfterMs: calendarDay(now, settings.timeZone).end - now,
      };
    }
    // The window is rolling: the next slot opens when the oldest request in it is 10 s old, which the
    // limiter's own log (corrected by this answer's `Remaining: 0`) knows better than a fixed 10 s.
    if (e.policyName === 'TEN_SECONDLY_ROLLING') return { ...reading, retryAfterMs: 0 };
    if (e.message === SECONDLY_LIMIT_MESSAGE) return { ...reading, retryAfterMs: 1000 };
    return reading;
  };
}

/**
 * The property names of a `Property values were not valid: [{…"error":"PROPERTY_DOESNT_EXIST","name":"foo"…}]`
 * message. The embedded array is parsed when it is whole; the names are picked out of it otherwise.
 */
export function unknownPropertiesIn(message: string): string[] {
  if (!message.includes('PROPERTY_DOESNT_EXIST')) return [];
  const start = message.indexOf('[');
  const parsed = start < 0 ? undefined : parseJsonBody(message.slice(start));
  if (Array.isArray(parsed)) {
    return unique(
      parsed
        .filter((p) => p && p.error === 'PROPERTY_DOESNT_EXIST' && typeof p.name === 'string')
        .map((p) => p.name as string),
    );
  }
  const names: string[] = [];
  for (const m of message.matchAll(/"error":"PROPERTY_DOESNT_EXIST","name":"([^"\\]+)"/g)) names.push(m[1]!);
  return unique(names);
}

/** The typed error of a write that named properties the object type does not have. */
export function unknownPropertiesError(
  objectType: string,
  properties: readonly string[],
  cause: unknown,
): PatchbayError {
  return new PatchbayError(
    ErrorCode.UNKNOWN_PROPERTIES,
    `HubSpot ${objectType} has no propert${properties.length === 1 ? 'y' : 'ies'} ${properties.map((p) => `"${p}"`).join(', ')}: create ${properties.length === 1 ? 'it' : 'them'} first (ensureProperties, or write with createMissingProperties)`,
    { cause, status: 400, classification: 'permanent', data: { objectType, properties: [...properties] } },
  );
}

/** The properties an `UNKNOWN_PROPERTIES` error names, or the ones a HubSpot 400 names; else undefined. */
export function unknownPropertiesOf(error: unknown): string[] | undefined {
  if (!(error instanceof PatchbayError)) return undefined;
  if (error.code === ErrorCode.UNKNOWN_PROPERTIES) return error.data?.properties as string[];
  const names = (error.data?.upstream as { unknownProperties?: string } | undefined)?.unknownProperties;
  return error.status === 400 && names ? names.split(',') : undefined;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * A failed call's error as the caller decides on it: an unknown-property 400 becomes
 * `UNKNOWN_PROPERTIES` naming them, a record at its association limit `ASSOCIATION_LIMIT`, an expired
 * paging cursor the sync engine's `CursorExpiredError`. Anything else is left as the client raised it.
 */
export function callError(error: unknown, objectType?: string): unknown {
  if (!(error instanceof PatchbayError) || error.status !== 400) return error;
  const names = unknownPropertiesOf(error);
  if (names && names.length > 0 && objectType) return unknownPropertiesError(objectType, names, error);
  const upstream = (error.data?.upstream ?? {}) as Record<string, unknown>;
  const sub = typeof upstream.subCategory === 'string' ? upstream.subCategory : '';
  if (
    /TOO_MANY_ASSOCIATIONS|ASSOCIATION_LIMIT/i.test(sub) ||
    /maximum of \d+ associations|association limit/i.test(error.message)
  ) {
    return new PatchbayError(
      ErrorCode.ASSOCIATION_LIMIT,
      `HubSpot refused the association: ${upstreamMessage(error)}`,
      {
        cause: error,
        status: 400,
        classification: 'permanent',
      },
    );
  }
  if (/CURSOR/i.test(sub) || /cursor[^.]*(expired|not valid)/i.test(error.message)) {
    return new CursorExpiredError(`HubSpot no longer accepts the paging cursor: ${upstreamMessage(error)}`, {
      cause: error,
      status: 400,
    });
  }
  return error;
}

/** The provider's words at the end of a client error's message (`… answered 400: <words>`). */
function upstreamMessage(error: PatchbayError): string {
  const at = error.message.indexOf(': ');
  return at < 0 ? error.message : error.message.slice(at + 2);
}
