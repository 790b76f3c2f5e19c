import type { Readable } from 'node:stream';
import type { HttpRequest } from '../../http/http-types.js';
import { messagePath } from './graph-paths.js';
import { type AttachmentMeta, attachmentMetaSchema, pageSchema } from './schemas.js';

/** The attachment metadata Patchbay keeps; `contentBytes` stays out of every listing. */
export const ATTACHMENT_FIELDS = [
  'id',
  'name',
  'contentType',
  'size',
  'isInline',
  'contentId',
  'lastModifiedDateTime',
];

/** `$expand` for messages listed with their attachments' metadata (attachments come apart: G11). */
export const EXPAND_ATTACHMENTS = `attachments($select=${ATTACHMENT_FIELDS.join(',')})`;

const attachmentPage = pageSchema(attachmentMetaSchema);

/** `GET …/messages/{id}/attachments` without the bytes (message-list-attachments.md). */
export function listAttachmentsRequest(
  mailbox: string,
  messageId: string,
  signal?: AbortSignal,
): HttpRequest<{ value: AttachmentMeta[] }> {
  return {
    path: `${messagePath(mailbox, messageId)}/attachments`,
    query: { $select: ATTACHMENT_FIELDS.join(',') },
    schema: attachmentPage,
    ...(signal && { signal }),
  };
}

/** `GET …/attachments/{id}/$value`: the raw bytes, streamed and bounded by `maxBytes`. */
export function attachmentContentRequest(
  mailbox: string,
  messageId: string,
  attachmentId: string,
  maxBytes: number,
  signal?: AbortSignal,
): HttpRequest<Readable> {
  return {
    path: `${messagePath(mailbox, messageId)}/attachments/${encodeURIComponent(attachmentId)}/$value`,
    stream: true,
    maxBodyBytes: maxBytes,
    ...(signal && { signal }),
  };
}
