import { etagOf } from './graph-ids.js';
import type { FakeAttachment, FakeMessage, ItemBody, MessageField } from './mail-types.js';

/** The message properties Graph v1.0 returns by default (message.md); `$select` may name only these. */
export const MESSAGE_PROPERTIES = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'subject',
  'bodyPreview',
  'importance',
  'parentFolderId',
  'conversationId',
  'conversationIndex',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'isRead',
  'isDraft',
  'webLink',
  'inferenceClassification',
  'body',
  'sender',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'flag',
] as const;

/** Only returned when `$select`ed. */
const SELECT_ONLY = ['internetMessageHeaders', 'uniqueBody'] as const;

export const SELECTABLE = new Set<string>([...MESSAGE_PROPERTIES, ...SELECT_ONLY]);

/** Which stored field each property is derived from, for partial delta updates. */
const PROPERTY_SOURCE: Partial<Record<string, MessageField>> = {
  subject: 'subject',
  body: 'body',
  uniqueBody: 'body',
  bodyPreview: 'body',
  from: 'from',
  sender: 'sender',
  toRecipients: 'toRecipients',
  ccRecipients: 'ccRecipients',
  bccRecipients: 'bccRecipients',
  replyTo: 'replyTo',
  isRead: 'isRead',
  isDraft: 'isDraft',
  importance: 'importance',
  categories: 'categories',
  flag: 'flag',
  inferenceClassification: 'inferenceClassification',
  conversationId: 'conversationId',
  internetMessageHeaders: 'internetMessageHeaders',
};

export interface ViewOptions {
  /** `$select`ed properties; all default ones when absent. */
  select?: ReadonlySet<string>;
  /** `Prefer: outlook.body-content-type`; the stored type when absent. */
  bodyType?: 'text' | 'html';
  /** `Prefer: IdType="ImmutableId"`. */
  immutableIds?: boolean;
  /** Only properties whose source changed after this sequence (delta's partial updates). */
  changedAfter?: number;
  /** `$expand=attachments` (true), or `$expand=attachments($select=…)` (those properties). */
  attachments?: boolean | ReadonlySet<string>;
  /** `$expand=singleValueExtendedProperties($filter=id eq '…')`: the ids to include. */
  extendedProperties?: (id: string) => boolean;
}

/** A message as Graph serialises it: `@odata.etag` and `id` always, then the selected properties. */
export function renderMessage(message: FakeMessage, options: ViewOptions = {}): Record<string, unknown> {
  const all = allProperties(message, options);
  const names = options.select ? [...options.select] : [...MESSAGE_PROPERTIES];
  const out: Record<string, unknown> = {
    '@odata.etag': etagOf(message.changeKey),
    id: options.immutableIds ? message.immutableId : message.id,
  };
  for (const name of names) {
    if (name === 'id' || !(name in all)) continue;
    if (options.changedAfter !== undefined) {
      const source = PROPERTY_SOURCE[name];
      if (!source || (message.fieldSeq.get(source) ?? 0) <= options.changedAfter) continue;
    }
    out[name] = all[name];
  }
  if (options.attachments) {
    const select = options.attachments === true ? undefined : options.attachments;
    out.attachments = message.attachments.map((a) => renderAttachment(a, select));
  }
  if (options.extendedProperties) {
    const wanted = message.fields.singleValueExtendedProperties.filter((p) =>
      options.extendedProperties!(p.id),
    );
    out.singleValueExtendedProperties = wanted.map((p) => ({ id: p.id, value: p.value }));
  }
  return out;
}

/** Every property, for `$filter` evaluation (which may look at `singleValueExtendedProperties`). */
export function filterView(message: FakeMessage): Record<string, unknown> {
  return {
    ...allProperties(message, {}),
    singleValueExtendedProperties: message.fields.singleValueExtendedProperties,
  };
}

function allProperties(message: FakeMessage, options: ViewOptions): Record<string, unknown> {
  const f = message.fields;
  const body = convertBody(f.body, options.bodyType);
  const out: Record<string, unknown> = {
    createdDateTime: iso(message.createdAt),
    lastModifiedDateTime: iso(message.lastModifiedAt),
    changeKey: message.changeKey,
    categories: f.categories,
    receivedDateTime: iso(message.receivedAt),
    sentDateTime: message.sentAt === null ? null : iso(message.sentAt),
    // "false when every attachment is inline" (message.md, hasAttachments).
    hasAttachments: message.attachments.some((a) => !a.isInline),
    internetMessageId: f.internetMessageId,
    subject: f.subject,
    bodyPreview: toText(f.body).replace(/\s+/g, ' ').trim().slice(0, 255),
    importance: f.importance,
    parentFolderId: message.folderId,
    conversationIndex: Buffer.from(message.immutableId.slice(0, 22)).toString('base64'),
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: f.isRead,
    isDraft: f.isDraft,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(message.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: f.inferenceClassification,
    body,
    uniqueBody: body,
    sender: f.sender,
    from: f.from,
    toRecipients: f.toRecipients,
    ccRecipients: f.ccRecipients,
    bccRecipients: f.bccRecipients,
    replyTo: f.replyTo,
    flag: f.flag,
    internetMessageHeaders: f.internetMessageHeaders,
  };
  if (f.conversationId !== null) out.conversationId = f.conversationId;
  return out;
}

/** An attachment; with `select`, only those properties (`contentBytes` only when named). */
export function renderAttachment(
  attachment: FakeAttachment,
  select?: ReadonlySet<string>,
): Record<string, unknown> {
  const all = allAttachmentProperties(attachment);
  if (!select) return all;
  const out: Record<string, unknown> = { '@odata.type': all['@odata.type'], id: all.id };
  for (const name of select) if (name in all) out[name] = all[name];
  return out;
}

export const ATTACHMENT_PROPERTIES = new Set([
  'id',
  'lastModifiedDateTime',
  'name',
  'contentType',
  'size',
  'isInline',
  'contentId',
  'contentLocation',
  'contentBytes',
]);

function allAttachmentProperties(attachment: FakeAttachment): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': attachment.contentType,
    id: attachment.id,
    lastModifiedDateTime: iso(attachment.lastModifiedAt),
    name: attachment.name,
    contentType: attachment.contentType,
    size: attachment.bytes.length + 200,
    isInline: attachment.isInline,
    contentId: attachment.contentId,
    contentLocation: null,
    contentBytes: attachment.bytes.toString('base64'),
  };
}

function convertBody(body: ItemBody, wanted: 'text' | 'html' | undefined): ItemBody {
  if (!wanted || wanted === body.contentType) return body;
  if (wanted === 'text') return { contentType: 'text', content: toText(body) };
  const escaped = body.content.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    contentType: 'html',
    content: `<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><div>${escaped.replace(/\n/g, '<br>')}</div></body></html>`,
  };
}

function toText(body: ItemBody): string {
  if (body.contentType === 'text') return body.content;
  return body.content
    .replace(/<(br|\/p|\/div)\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim();
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
