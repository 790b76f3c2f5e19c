import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { badPayload } from './rejection.js';
import type { RawBody } from './types.js';

/** The request bytes as a Buffer without copying. A parsed object is refused: signatures cover bytes. */
export function toBytes(rawBody: RawBody): Buffer {
  if (Buffer.isBuffer(rawBody)) return rawBody;
  if (rawBody instanceof Uint8Array)
    return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  throw new PatchbayError(
    ErrorCode.INVALID_ARGUMENT,
    `rawBody must be the raw request bytes (Buffer, Uint8Array or string), got ${
      rawBody === null ? 'null' : typeof rawBody
    }: verify before any body parser runs`,
  );
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text; invalid UTF-8 is a payload error (JSON and form bodies must be UTF-8). */
export function bodyText(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw badPayload('body is not valid UTF-8');
  }
}
