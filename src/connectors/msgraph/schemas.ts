import { z } from 'zod';

/**
 * Graph's mail resources as Patchbay reads them (message.md, mailfolder.md, attachment.md,
 * subscription.md). Only `id` is certain: `$select` and delta's partial updates leave anything else
 * out, and `conversationId` is missing on some messages. Unknown properties are kept.
 */
const emailAddress = z.object({ name: z.string().optional(), address: z.string().optional() }).loose();
export const recipientSchema = z.object({ emailAddress: emailAddress }).loose();

/** What `$expand=attachments($select=…)` and the attachment list give: metadata, no bytes. */
export const attachmentMetaSchema = z
  .object({
    '@odata.type': z.string().optional(),
    id: z.string(),
    name: z.string().nullish(),
    contentType: z.string().nullish(),
    size: z.number().optional(),
    isInline: z.boolean().optional(),
    contentId: z.string().nullish(),
    lastModifiedDateTime: z.string().optional(),
  })
  .loose();

export const messageSchema = z
  .object({
    id: z.string(),
    '@odata.etag': z.string().optional(),
    '@removed': z.object({ reason: z.string().optional() }).loose().optional(),
    subject: z.string().nullish(),
    conversationId: z.string().nullish(),
    parentFolderId: z.string().optional(),
    receivedDateTime: z.string().nullish(),
    sentDateTime: z.string().nullish(),
    lastModifiedDateTime: z.string().optional(),
    isRead: z.boolean().optional(),
    isDraft: z.boolean().optional(),
    hasAttachments: z.boolean().optional(),
    internetMessageId: z.string().nullish(),
    from: recipientSchema.nullish(),
    sender: recipientSchema.nullish(),
    toRecipients: z.array(recipientSchema).optional(),
    ccRecipients: z.array(recipientSchema).optional(),
    bccRecipients: z.array(recipientSchema).optional(),
    body: z.object({ contentType: z.string(), content: z.string() }).loose().optional(),
    bodyPreview: z.string().optional(),
    attachments: z.array(attachmentMetaSchema).optional(),
  })
  .loose();

export type GraphMessage = z.output<typeof messageSchema>;
export type AttachmentMeta = z.output<typeof attachmentMetaSchema>;

export const folderSchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    parentFolderId: z.string().nullish(),
    childFolderCount: z.number().optional(),
    unreadItemCount: z.number().optional(),
    totalItemCount: z.number().optional(),
    isHidden: z.boolean().optional(),
  })
  .loose();

export type GraphFolder = z.output<typeof folderSchema>;

/** A collection page; a delta page has a nextLink or a deltaLink, never both. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z
    .object({
      value: z.array(item),
      '@odata.nextLink': z.string().optional(),
      '@odata.deltaLink': z.string().optional(),
    })
    .loose();
}

export const subscriptionSchema = z
  .object({
    id: z.string(),
    resource: z.string(),
    changeType: z.string(),
    notificationUrl: z.string(),
    lifecycleNotificationUrl: z.string().nullish(),
    expirationDateTime: z.string(),
    clientState: z.string().nullish(),
  })
  .loose();

export type GraphSubscription = z.output<typeof subscriptionSchema>;
