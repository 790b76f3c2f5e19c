import { invalid, outOfRange } from './rejection.js';

const DIGITS = /^[0-9]+$/;

/**
 * A signed timestamp header in ms. Only plain digits are a timestamp (no sign, exponent, hex or spaces);
 * anything else is a malformed header. A huge value stays a number (possibly `Infinity`) and fails the window.
 */
export function parseTimestamp(text: string, unit: 'seconds' | 'milliseconds', label: string): number {
  if (!DIGITS.test(text)) throw invalid(`${label} is not a unix timestamp`);
  const value = Number(text);
  return unit === 'seconds' ? value * 1000 : value;
}

/** Rejects a timestamp more than `toleranceMs` before or after `now`. */
export function checkWindow(timestampMs: number, now: number, toleranceMs: number, label: string): void {
  const skew = now - timestampMs;
  if (!(Math.abs(skew) <= toleranceMs)) {
    const seconds = Math.round(Math.abs(skew) / 1000);
    const when = !Number.isFinite(skew)
      ? 'out of any plausible range'
      : skew > 0
        ? `${seconds} s in the past`
        : `${seconds} s in the future`;
    throw outOfRange(`${label} is ${when}; the accepted window is ±${Math.round(toleranceMs / 1000)} s`);
  }
}
