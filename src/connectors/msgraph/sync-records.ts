import { z } from 'zod';
import type { AttachmentMeta, GraphFolder, GraphMessage } from './schemas.js';

/**
 * The records the Graph sync models store: a message's mail fields flattened (addresses as
 * `{ name, address }`), its attachments' metadata (never their bytes), and `conversationId` as `null`
 * when Exchange gave none (some messages have none).
 */
const addressSchema = z.object({ name: z.string().nullable(), address: z.string().nullable() });

const attachmentRecordSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  contentType: z.string().nullable(),
  size: z.number().nullable(),
  isInline: z.boolean(),
});

export const messageRecordSchema = z.object({
  id: z.string(),
  folderId: z.string().nullable(),
  conversationId: z.string().nullable(),
  internetMessageId: z.string().nullable(),
  subject: z.string().nullable(),
  from: addressSchema.nullable(),
  to: z.array(addressSchema),
  cc: z.array(addressSchema),
  receivedAt: z.string().nullable(),
  sentAt: z.string().nullable(),
  lastModifiedAt: z.string().nullable(),
  isRead: z.boolean(),
  isDraft: z.boolean(),
  hasAttachments: z.boolean(),
  bodyPreview: z.string().nullable(),
  /** Present when the sync reads bodies (`body: true`). */
  body: z.object({ contentType: z.string(), content: z.string() }).optional(),
  /** Present when the sync lists attachments (`attachments: true`, the default). */
  attachments: z.array(attachmentRecordSchema).optional(),
});

export type MessageRecord = z.output<typeof messageRecordSchema>;

export const folderRecordSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  parentFolderId: z.string().nullable(),
  childFolderCount: z.number(),
  unreadItemCount: z.number(),
  totalItemCount: z.number(),
  isHidden: z.boolean(),
});

export type FolderRecord = z.output<typeof folderRecordSchema>;

type Recipient = NonNullable<GraphMessage['from']>;

const address = (r: Recipient | null | undefined) =>
  r ? { name: r.emailAddress.name ?? null, address: r.emailAddress.address ?? null } : null;

const addresses = (list: readonly Recipient[] | undefined) => (list ?? []).map((r) => address(r)!);

function attachmentRecord(a: AttachmentMeta): z.output<typeof attachmentRecordSchema> {
  return {
    id: a.id,
    name: a.name ?? null,
    contentType: a.contentType ?? null,
    size: a.size ?? null,
    isInline: a.isInline ?? false,
  };
}

export function messageRecord(m: GraphMessage): MessageRecord {
  return {
    id: m.id,
    folderId: m.parentFolderId ?? null,
    conversationId: m.conversationId ?? null,
    internetMessageId: m.internetMessageId ?? null,
    subject: m.subject ?? null,
    from: address(m.from),
    to: addresses(m.toRecipients),
    cc: addresses(m.ccRecipients),
    receivedAt: m.receivedDateTime ?? null,
    sentAt: m.sentDateTime ?? null,
    lastModifiedAt: m.lastModifiedDateTime ?? null,
    isRead: m.isRead ?? false,
    isDraft: m.isDraft ?? false,
    hasAttachments: m.hasAttachments ?? false,
    bodyPreview: m.bodyPreview ?? null,
    ...(m.body && { body: { contentType: m.body.contentType, content: m.body.content } }),
    ...(m.attachments && { attachments: m.attachments.map(attachmentRecord) }),
  };
}

export function folderRecord(f: GraphFolder): FolderRecord {
  return {
    id: f.id,
    displayName: f.displayName,
    parentFolderId: f.parentFolderId ?? null,
    childFolderCount: f.childFolderCount ?? 0,
    unreadItemCount: f.unreadItemCount ?? 0,
    totalItemCount: f.totalItemCount ?? 0,
    isHidden: f.isHidden ?? false,
  };
}
