import { timingSafeEqual } from 'node:crypto';

/**
 * Constant-time equality of two byte strings. The length check comes first (lengths are not secret:
 * every signature of a scheme has the same length), because `timingSafeEqual` throws on a mismatch.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Index of the first of `expected` equal to `candidate`, or -1. */
export function matchIndex(candidate: Uint8Array, expected: readonly Uint8Array[]): number {
  for (let i = 0; i < expected.length; i++) {
    if (equalBytes(candidate, expected[i]!)) return i;
  }
  return -1;
}

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes a hex signature of exactly `bytes` bytes, or `undefined` when the text is anything else. Buffer's
 * own decoder stops silently at the first bad character; signatures are checked strictly instead.
 */
export function decodeHex(text: string, bytes: number): Buffer | undefined {
  if (text.length !== bytes * 2 || !HEX.test(text)) return undefined;
  return Buffer.from(text, 'hex');
}

/** Decodes standard padded base64 of exactly `bytes` bytes, or `undefined`. */
export function decodeBase64(text: string, bytes: number): Buffer | undefined {
  if (text.length !== Math.ceil(bytes / 3) * 4 || !BASE64.test(text)) return undefined;
  const out = Buffer.from(text, 'base64');
  // Non-canonical trailing bits decode to the same bytes; re-encoding catches them.
  if (out.length !== bytes || out.toString('base64') !== text) return undefined;
  return out;
}
