import type { FakeKit } from '../../fake-kit/index.js';
import type { Directory } from './directory.js';
import { badRequest, GraphFault } from './graph-errors.js';
import type { GraphRequest, GraphRoute } from './graph-route.js';
import type {
  ExtendedProperty,
  InternetMessageHeader,
  ItemBody,
  MessageFields,
  Recipient,
} from './mail-types.js';
import { attachmentOf, conversationIdNew, internetMessageIdNew } from './message-factory.js';
import { parseMimeSend } from './mime-message.js';
import { jsonBody } from './request-parts.js';

const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/**
 * `POST /users/{id}/sendMail` (G11): JSON `{ message, saveToSentItems }` or MIME (base64 in a
 * `text/plain` body). Success is 202 with no body. The message then shows in the sender's Sent Items
 * (unless `saveToSentItems: false`) and in the Inbox of each recipient who is a user of this tenant.
 * A `from` the mailbox may not send as is 403 `ErrorSendAsDenied`.
 */
export function sendMailRoute(
  directory: Directory,
  kit: FakeKit,
  sentItemsDelayMs: () => number,
): GraphRoute {
  return {
    method: 'POST',
    pattern: 'users/:user/sendmail',
    access: 'mail.send',
    handle(request) {
      const outgoing =
        Buffer.isBuffer(request.body) && /^text\/plain/i.test(request.headers['content-type'] ?? '')
          ? fromMime(request.body)
          : fromJson(request);
      const { mailbox, now } = request;
      const own = mailbox.user.mail.toLowerCase();
      const from = outgoing.from ?? {
        emailAddress: { name: mailbox.user.displayName, address: mailbox.user.mail },
      };
      const fromAddress = from.emailAddress.address.toLowerCase();
      if (fromAddress !== own && !mailbox.user.sendAs.map((a) => a.toLowerCase()).includes(fromAddress)) {
        throw new GraphFault(
          403,
          'ErrorSendAsDenied',
          'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.',
        );
      }
      const all = [...outgoing.toRecipients, ...outgoing.ccRecipients, ...outgoing.bccRecipients];
      if (all.length === 0) {
        throw badRequest(
          "At least one recipient isn't valid., A message can't be sent because it contains no recipients.",
          'ErrorInvalidRecipients',
        );
      }
      const bad = all.find((r) => !ADDRESS.test(r.emailAddress?.address ?? ''));
      if (bad) {
        throw badRequest(
          `At least one recipient isn't valid., Recipient '${bad.emailAddress?.address ?? ''}' isn't resolved. All recipients must be resolved before a message can be submitted.`,
          'ErrorInvalidRecipients',
        );
      }
      const fields: MessageFields = {
        subject: outgoing.subject,
        body: outgoing.body,
        from,
        sender: from,
        toRecipients: outgoing.toRecipients,
        ccRecipients: outgoing.ccRecipients,
        bccRecipients: outgoing.bccRecipients,
        replyTo: outgoing.replyTo,
        isRead: true,
        isDraft: false,
        importance: outgoing.importance,
        categories: [],
        flag: { flagStatus: 'notFlagged' },
        inferenceClassification: 'focused',
        conversationId: conversationIdNew(),
        internetMessageId: internetMessageIdNew(own.split('@')[1] ?? 'contoso.test'),
        internetMessageHeaders: outgoing.headers,
        singleValueExtendedProperties: outgoing.extendedProperties,
      };
      const attachments = outgoing.attachments.map((a) => attachmentOf(a, now));
      const deliver = () => {
        if (outgoing.saveToSentItems) {
          mailbox.add(mailbox.folder('sentitems')!.id, { fields, receivedAt: now, sentAt: now, attachments });
        }
        for (const to of all) {
          const local = directory.user(to.emailAddress.address);
          if (!local) {
            kit.count('mail:external');
            continue;
          }
          // Recipients get the internet headers; MAPI extended properties stay with the sender's copy.
          local.add(local.folder('inbox')!.id, {
            fields: { ...fields, isRead: false, bccRecipients: [], singleValueExtendedProperties: [] },
            receivedAt: now,
            sentAt: now,
            attachments: attachments.map((a) => ({ ...a })),
          });
        }
      };
      const delay = sentItemsDelayMs();
      if (delay > 0) kit.clock.at(now + delay, deliver);
      else deliver();
      kit.count('mail:sent');
      return { status: 202 };
    },
  };
}

interface Outgoing {
  subject: string;
  body: ItemBody;
  from: Recipient | null;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  importance: MessageFields['importance'];
  headers: InternetMessageHeader[];
  extendedProperties: ExtendedProperty[];
  attachments: Array<{
    name: string;
    contentType?: string;
    contentBytes?: string;
    isInline?: boolean;
    contentId?: string;
  }>;
  saveToSentItems: boolean;
}

function fromMime(payload: Buffer): Outgoing {
  const mime = parseMimeSend(payload);
  return {
    ...mime,
    replyTo: [],
    importance: 'normal',
    extendedProperties: [],
    attachments: [],
    saveToSentItems: true,
  };
}

function fromJson(request: GraphRequest): Outgoing {
  const body = jsonBody(request);
  const message = body.message as Record<string, unknown> | undefined;
  if (!message || typeof message !== 'object') {
    throw badRequest("The value of the parameter 'Message' is empty.", 'ErrorInvalidParameter');
  }
  const recipients = (name: string): Recipient[] => {
    const value = message[name];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value))
      throw badRequest(`Property '${name}' must be a collection of recipients.`, 'ErrorInvalidRecipients');
    return value as Recipient[];
  };
  const headers = (message.internetMessageHeaders ?? []) as InternetMessageHeader[];
  for (const header of headers) {
    if (typeof header?.name !== 'string' || !/^x-/i.test(header.name)) {
      throw badRequest(
        `The internet message header name '${header?.name}' should start with 'x-' or 'X-'.`,
        'InvalidInternetMessageHeader',
      );
    }
  }
  const rawBody = (message.body ?? { contentType: 'Text', content: '' }) as {
    contentType?: string;
    content?: string;
  };
  const attachments = (message.attachments ?? []) as Outgoing['attachments'];
  for (const a of attachments) {
    if (typeof a?.name !== 'string' || typeof a.contentBytes !== 'string') {
      throw badRequest('A file attachment needs a name and contentBytes.', 'ErrorInvalidRequest');
    }
  }
  const importance = (message.importance ?? 'normal') as string;
  return {
    subject: typeof message.subject === 'string' ? message.subject : '',
    body: {
      contentType: /^html$/i.test(rawBody.contentType ?? '') ? 'html' : 'text',
      content: typeof rawBody.content === 'string' ? rawBody.content : '',
    },
    from: (message.from as Recipient | undefined) ?? null,
    toRecipients: recipients('toRecipients'),
    ccRecipients: recipients('ccRecipients'),
    bccRecipients: recipients('bccRecipients'),
    replyTo: recipients('replyTo'),
    importance: (['low', 'normal', 'high'].includes(importance.toLowerCase())
      ? importance.toLowerCase()
      : 'normal') as MessageFields['importance'],
    headers: headers.map((h) => ({ name: h.name, value: String(h.value ?? '') })),
    extendedProperties: ((message.singleValueExtendedProperties ?? []) as ExtendedProperty[]).map((p) => ({
      id: String(p.id),
      value: String(p.value),
    })),
    attachments,
    saveToSentItems: body.saveToSentItems !== false,
  };
}
