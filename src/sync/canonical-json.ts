import { createHash } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../core/errors.js';

/**
 * Canonical JSON: object keys sorted (recursively), no whitespace, `toJSON` honoured, `undefined` left
 * out — so two payloads that differ only in key order are the same text. Nango hashed
 * `JSON.stringify(record)` and saw reordered payloads as changes. Throws `RESPONSE_INVALID` for values
 * JSON cannot hold (a BigInt, a cycle, a non-finite number).
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

/**
 * The change hash of a record: SHA-256 of its canonical JSON without the volatile fields (dot paths),
 * base64url, 22 characters (132 bits). With no volatile fields, pass the canonical text to skip a second
 * serialisation.
 */
export function recordHash(record: unknown, volatile: readonly string[], canonical?: string): string {
  const text =
    volatile.length === 0 ? (canonical ?? canonicalJson(record)) : canonicalJson(without(record, volatile));
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** Top-level fields whose values differ between two records (compared canonically). */
export function changedFields(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
): string[] {
  if (!before) return Object.keys(after).sort();
  const out: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (canonicalJson(before[key]) !== canonicalJson(after[key])) out.push(key);
  }
  return out.sort();
}

function without(record: unknown, paths: readonly string[]): unknown {
  if (typeof record !== 'object' || record === null) return record;
  const copy = structuredClone(record) as Record<string, unknown>;
  for (const path of paths) {
    const parts = path.split('.');
    let node: unknown = copy;
    for (let i = 0; i < parts.length - 1 && typeof node === 'object' && node !== null; i++) {
      node = (node as Record<string, unknown>)[parts[i]!];
    }
    if (typeof node === 'object' && node !== null) delete (node as Record<string, unknown>)[parts.at(-1)!];
  }
  return copy;
}

function write(value: unknown, stack: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw unfit(`the number ${value}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw unfit('a BigInt');
    case 'object':
      break;
    default:
      throw unfit(`a ${typeof value}`);
  }
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return write((object as { toJSON(): unknown }).toJSON(), stack);
  }
  if (stack.has(object)) throw unfit('a cycle');
  stack.add(object);
  let out: string;
  if (Array.isArray(object)) {
    out = `[${object.map((item) => (item === undefined || typeof item === 'function' ? 'null' : write(item, stack))).join(',')}]`;
  } else {
    const record = object as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      parts.push(`${JSON.stringify(key)}:${write(item, stack)}`);
    }
    out = `{${parts.join(',')}}`;
  }
  stack.delete(object);
  return out;
}

function unfit(what: string): PatchbayError {
  return new PatchbayError(ErrorCode.RESPONSE_INVALID, `a record holds ${what}, which JSON cannot store`);
}
