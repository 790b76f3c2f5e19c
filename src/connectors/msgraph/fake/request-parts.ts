import { INVALID_JSON } from '../../fake-kit/index.js';
import { badRequest, notFound } from './graph-errors.js';
import type { GraphRequest } from './graph-route.js';
import type { FakeFolder, FakeMessage } from './mail-types.js';
import type { Mailbox } from './mailbox.js';

/** The JSON object body a write needs, or Graph's 400 for anything else. */
export function jsonBody(request: GraphRequest): Record<string, unknown> {
  const body = request.body;
  if (
    body === INVALID_JSON ||
    body === null ||
    typeof body !== 'object' ||
    Buffer.isBuffer(body) ||
    Array.isArray(body)
  ) {
    throw badRequest(
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  }
  return body as Record<string, unknown>;
}

/** Exchange ids are long base64; anything that cannot be one is "malformed" rather than "not found". */
function checkId(id: string): void {
  if (id.length < 8 || !/^[A-Za-z0-9+/_=-]+$/.test(id)) {
    throw badRequest('Id is malformed.', 'ErrorInvalidIdMalformed');
  }
}

export function folderOf(mailbox: Mailbox, idOrName: string): FakeFolder {
  const folder = mailbox.folder(idOrName);
  if (folder) return folder;
  if (/^[a-z]+$/i.test(idOrName)) throw badRequest('Id is malformed.', 'ErrorInvalidIdMalformed');
  checkId(idOrName);
  throw notFound();
}

/** A message of the mailbox (and of the folder, when the path names one). */
export function messageOf(mailbox: Mailbox, id: string, folderIdOrName?: string): FakeMessage {
  checkId(id);
  const message = mailbox.message(id);
  if (!message) throw notFound();
  if (folderIdOrName !== undefined && folderOf(mailbox, folderIdOrName).id !== message.folderId)
    throw notFound();
  return message;
}

/** A link back to this path on the fake's origin with some query options replaced. */
export function linkTo(origin: string, path: string, query: ReadonlyMap<string, string>): string {
  const parts = [...query].map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return `${origin}/v1.0/${path}${parts.length > 0 ? `?${parts.join('&')}` : ''}`;
}
