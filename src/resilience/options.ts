import { ErrorCode, PatchbayError } from '../core/errors.js';

/**
 * Eager option checks. Every message names the option and the value received, so a bad configuration
 * fails at construction with a sentence the user can act on, not later inside a request.
 */
export function invalidOption(name: string, expected: string, value: unknown): PatchbayError {
  return new PatchbayError(ErrorCode.INVALID_ARGUMENT, `${name} must be ${expected} (got ${show(value)})`);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : typeof value;
}

export function checkInteger(
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(
      name,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
      value,
    );
  }
  return value;
}

/** A finite number (or Infinity when `allowInfinity`) within [min, max]. */
export function checkNumber(
  name: string,
  value: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
  allowInfinity = false,
): number {
  const finiteOk = Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY);
  if (typeof value !== 'number' || Number.isNaN(value) || !finiteOk || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`;
    throw invalidOption(name, `a ${allowInfinity ? '' : 'finite '}number ${range}`, value);
  }
  return value;
}

export function checkFunction(name: string, value: unknown): void {
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value);
}

/** Rejects option names that do not exist, which are almost always typos (`maxAttempt`). */
export function checkKnownKeys(name: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `${name}.${key} is not an option; expected one of ${known.join(', ')}`,
      );
    }
  }
}

/** Drops keys whose value is undefined so `{ ...defaults, ...options }` keeps the default. */
export function defined<T extends object>(options: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (!options) return out;
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
