import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { invalid, type Rejection } from './rejection.js';
import type { HeaderInput } from './types.js';

/**
 * Request headers by lower-case name, keeping every value seen, so that a header sent twice is noticed
 * instead of one copy silently winning (a classic way to smuggle a second signature past a verifier).
 */
export class RequestHeaders {
  private readonly values = new Map<string, string[]>();

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
    for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) {
        for (const v of value) this.add(name, String(v));
      } else {
        this.add(name, String(value));
      }
    }
  }

  private add(name: string, value: string): void {
    const key = name.toLowerCase();
    const list = this.values.get(key);
    if (list) list.push(value);
    else this.values.set(key, [value]);
  }

  /**
   * The one value of `name`, or `undefined` when absent or empty. Rejects (`SIGNATURE_INVALID`) when the
   * header was sent more than once (or with `rejectAs`, e.g. a payload error for an id header). `label` is
   * how the reason names the header (e.g. `X-Hub-Signature-256`).
   */
  single(name: string, label = name, rejectAs: (reason: string) => Rejection = invalid): string | undefined {
    const list = this.values.get(name);
    if (!list || list.length === 0) return undefined;
    if (list.length > 1) throw rejectAs(`${label} header is repeated`);
    const value = list[0]!.trim();
    return value === '' ? undefined : value;
  }

  /** Whether the header is present at all (even empty or repeated). */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** One string per lower-case name (repeats joined with ", "), leaving out `exclude`. */
  entries(exclude: ReadonlySet<string> = new Set()): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, list] of this.values) {
      if (!exclude.has(name)) out[name] = list.join(', ');
    }
    return out;
  }
}
