import { randomBytes } from 'node:crypto';
import { attachmentId } from './graph-ids.js';
import type { FakeAttachment, ItemBody, MessageFields, Recipient } from './mail-types.js';
import type { NewMessage } from './mailbox.js';

/** A message as tests describe it (control plane, seed): addresses as strings, times as ISO or ms. */
export interface MessageInput {
  subject?: string;
  /** Text, or `{ contentType, content }`. HTML by default, as Outlook stores mail. */
  body?: string | ItemBody;
  from?: string | Recipient;
  to?: Array<string | Recipient>;
  cc?: Array<string | Recipient>;
  isRead?: boolean;
  isDraft?: boolean;
  importance?: 'low' | 'normal' | 'high';
  categories?: string[];
  /** `null` leaves it out, as Graph does for some items. */
  conversationId?: string | null;
  receivedAt?: number | string;
  internetMessageHeaders?: Array<{ name: string; value: string }>;
  attachments?: AttachmentInput[];
}

export interface AttachmentInput {
  name: string;
  contentType?: string;
  /** Text content, or bytes as base64 in `contentBytes`. */
  content?: string;
  contentBytes?: string;
  isInline?: boolean;
  contentId?: string;
}

export function recipient(value: string | Recipient): Recipient {
  if (typeof value !== 'string') return value;
  const name = value
    .split('@')[0]!
    .replace(/[._]/g, ' ')
    .replace(/\b\w/g, (c) => c.toUpperCase());
  return { emailAddress: { name, address: value } };
}

export function conversationIdNew(): string {
  return `AAQkAD${randomBytes(30).toString('base64url')}=`;
}

export function internetMessageIdNew(domain: string): string {
  return `<${randomBytes(12).toString('hex').toUpperCase()}@${domain}>`;
}

export function attachmentOf(input: AttachmentInput, now: number): FakeAttachment {
  const bytes =
    input.contentBytes !== undefined
      ? Buffer.from(input.contentBytes, 'base64')
      : Buffer.from(input.content ?? '', 'utf8');
  return {
    id: attachmentId(),
    name: input.name,
    contentType: input.contentType ?? 'application/octet-stream',
    isInline: input.isInline ?? false,
    contentId: input.contentId ?? (input.isInline ? `${randomBytes(6).toString('hex')}@patchbay.fake` : null),
    bytes,
    lastModifiedAt: now,
  };
}

/** A received message for `owner` (its address), filled with what Exchange would have set. */
export function buildMessage(input: MessageInput, owner: string, now: number): NewMessage {
  const from = recipient(input.from ?? 'sender@fabrikam.test');
  const body: ItemBody =
    typeof input.body === 'string' || input.body === undefined
      ? {
          contentType: 'html',
          content: `<html><body><p>${input.body ?? 'Hello from the Graph fake.'}</p></body></html>`,
        }
      : input.body;
  const receivedAt =
    input.receivedAt === undefined
      ? now
      : typeof input.receivedAt === 'number'
        ? input.receivedAt
        : Date.parse(input.receivedAt);
  const fields: MessageFields = {
    subject: input.subject ?? '(no subject)',
    body,
    from,
    sender: from,
    toRecipients: (input.to ?? [owner]).map(recipient),
    ccRecipients: (input.cc ?? []).map(recipient),
    bccRecipients: [],
    replyTo: [],
    isRead: input.isRead ?? false,
    isDraft: input.isDraft ?? false,
    importance: input.importance ?? 'normal',
    categories: input.categories ?? [],
    flag: { flagStatus: 'notFlagged' },
    inferenceClassification: 'focused',
    conversationId: input.conversationId === undefined ? conversationIdNew() : input.conversationId,
    internetMessageId: internetMessageIdNew(from.emailAddress.address.split('@')[1] ?? 'fabrikam.test'),
    internetMessageHeaders: input.internetMessageHeaders ?? [],
    singleValueExtendedProperties: [],
  };
  return {
    fields,
    receivedAt,
    sentAt: input.isDraft ? null : receivedAt - 2000,
    attachments: (input.attachments ?? []).map((a) => attachmentOf(a, now)),
  };
}

const SENDERS = ['megan@contoso.test', 'orders@fabrikam.test', 'news@northwind.test', 'diego@litware.test'];
const TOPICS = [
  'Quarterly report',
  'Order confirmation',
  'Team lunch',
  'Invoice',
  'Project update',
  'Weekly digest',
];

/**
 * `count` varied messages for seeding large mailboxes, deterministic by index: received a minute apart
 * going back from `now`; every seventh has no conversationId, every eleventh an attachment, every
 * thirteenth only an inline image (so `hasAttachments` is false).
 */
export function generatedMessages(count: number, owner: string, now: number, start = 0): NewMessage[] {
  const out: NewMessage[] = [];
  for (let i = start; i < start + count; i++) {
    const attachments: AttachmentInput[] = [];
    if (i % 11 === 5)
      attachments.push({ name: `report-${i}.txt`, contentType: 'text/plain', content: `report ${i}\n` });
    if (i % 13 === 7)
      attachments.push({
        name: `logo-${i}.png`,
        contentType: 'image/png',
        contentBytes: 'iVBORw0KGgo=',
        isInline: true,
      });
    out.push(
      buildMessage(
        {
          subject: `${TOPICS[i % TOPICS.length]} #${i}`,
          body: `Message number ${i}.`,
          from: SENDERS[i % SENDERS.length]!,
          to: [owner],
          isRead: i % 3 === 0,
          conversationId: i % 7 === 3 ? null : undefined,
          receivedAt: now - (start + count - i) * 60_000,
          attachments,
        },
        owner,
        now,
      ),
    );
  }
  return out;
}
