import { ErrorCode, PatchbayError } from '../core/errors.js';

/**
 * Keyset cursor of a sync's records (the API's and the CLI's): the last (updatedAt, id) of a page,
 * opaque to clients.
 */
export function recordCursor(updatedAt: number, recordId: string): string {
  return Buffer.from(JSON.stringify([updatedAt, recordId])).toString('base64url');
}

export function readRecordCursor(cursor: string | undefined): { updatedAt: number; id: string } | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const [updatedAt, recordId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ];
    if (typeof updatedAt === 'number' && typeof recordId === 'string') return { updatedAt, id: recordId };
  } catch {
    // fall through
  }
  throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'cursor is not one this API returned');
}
