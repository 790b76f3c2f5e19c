import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { invalid, type Rejection } from './rejection.js';
import type { HeaderInput } from './types.js';

/**
 * Request headers by lower-case name, keeping every value seen, so that a header sent twice is noticed
 * instead of one copy silently winning (a classic way to smuggle a second signature past a verifier).
 */
export class RequestHeaders {
  /** Lower-case name → value (repeats joined with ", "). */
  private readonly values = new Map<string, string>();
  /** Names seen more than once; most requests have none, so the set is made on demand. */
  private repeated: Set<string> | undefined;

  constructor(input: HeaderInput) {
    if (input === null || typeof input !== 'object') {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `headers must be an object, got ${typeof input}`);
    }
    const iterable = input as { forEach?: (cb: (value: string, name: string) => void) => void };
    if (typeof iterable.forEach === 'function' && !Array.isArray(input)) {
      // A fetch Headers object has already joined repeats with ", ": nothing more to detect here.
      iterable.forEach((value, name) => {
        this.add(name, value);
      });
      return;
    }
    const record = input as Record<string, unknown>;
    for (const name of Object.keys(record)) {
      const value = record[name];
      if (typeof value === 'string') this.add(name, value);
      else if (Array.isArray(value)) for (const v of value) this.add(name, String(v));
      else if (value !== undefined && value !== null) this.add(name, String(value));
    }
  }

  private add(name: string, value: string): void {
    const key = name.toLowerCase();
    const seen = this.values.get(key);
    if (seen === undefined) {
      this.values.set(key, value);
    } else {
      this.values.set(key, `${seen}, ${value}`);
      this.repeated ??= new Set();
      this.repeated.add(key);
    }
  }

  /**
   * The one value of `name`, or `undefined` when absent or empty. Rejects (`SIGNATURE_INVALID`) when the
   * header was sent more than once (or with `rejectAs`, e.g. a payload error for an id header). `label` is
   * how the reason names the header (e.g. `X-Hub-Signature-256`).
   */
  single(name: string, label = name, rejectAs: (reason: string) => Rejection = invalid): string | undefined {
    const value = this.values.get(name);
    if (value === undefined) return undefined;
    if (this.repeated?.has(name)) throw rejectAs(`${label} header is repeated`);
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  /** Whether the header is present at all (even empty or repeated). */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** One string per lower-case name (repeats joined with ", "), leaving out `exclude`. */
  entries(exclude: ReadonlySet<string> = new Set()): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of this.values) {
      if (!exclude.has(name)) out[name] = value;
    }
    return out;
  }
}

/**
 * Headers from Node's `rawHeaders` (name, value, name, value…), each repeat kept: `req.headers` has
 * already joined a repeated `X-Hub-Signature-256` into one value with ", " (or dropped the second
 * `Authorization`), so a verifier reading it could not see that the header came twice.
 */
export function headersFromRaw(rawHeaders: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else out[name] = [seen, value];
  }
  return out;
}
