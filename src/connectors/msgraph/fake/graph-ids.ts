import { createHash, randomBytes } from 'node:crypto';

/**
 * Ids shaped like Exchange's: long URL-safe base64 strings ending in `=` (a client must escape them in
 * paths), unique per fake instance. The bytes carry nothing the fake parses back: every id is looked up.
 */
const INSTANCE = randomBytes(6);
let counter = 0;

function exchangeId(prefix: string, tag: number): string {
  const bytes = Buffer.alloc(30);
  INSTANCE.copy(bytes, 0);
  bytes.writeUInt16BE(tag, 6);
  bytes.writeUIntBE(++counter, 8, 6);
  randomBytes(16).copy(bytes, 14);
  return `${prefix}${bytes.toString('base64url')}AAA=`;
}

/** A message id (`AAMkAD…=`). */
export const messageId = () => exchangeId('AAMkAD', 1);

/** A folder id (`AQMkAD…=`). */
export const folderId = () => exchangeId('AQMkAD', 2);

/** An attachment id (`AAMkAD…BEgAQ…=`). */
export const attachmentId = () => exchangeId('AAMkADBEgAQ', 3);

/** A change key as Exchange prints it: base64 of an opaque version, different on every change. */
export function changeKey(): string {
  return `CQAAABYAAAA${randomBytes(12).toString('base64')}`;
}

export function etagOf(key: string): string {
  return `W/"${key}"`;
}

/** A GUID derived from a name, so the default users and app keep their ids across restarts. */
export function stableGuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function isGuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
