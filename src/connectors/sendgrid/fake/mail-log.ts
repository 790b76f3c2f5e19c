import { randomBytes } from 'node:crypto';
import type { ActivityRow } from './activity-query.js';
import type { SendGridEvent } from './event-webhook.js';
import type { Recipient, ValidMail } from './mail-validation.js';

/** One recipient's copy of an accepted mail, as the Email Activity feed shows it. */
export interface SentCopy extends Recipient {
  /** `<X-Message-Id>.<server part>`: SendGrid's per-recipient message id. */
  msgId: string;
  subject: string | undefined;
  status: 'processed' | 'delivered' | 'not_delivered';
  lastEventTime: number;
}

/** One accepted `POST /v3/mail/send`. */
export interface SentMessage {
  xMessageId: string;
  receivedAt: number;
  from: string;
  templateId: string | undefined;
  categories: string[];
  copies: SentCopy[];
  /** The request body as received. */
  request: unknown;
}

/** What happens to a recipient: delivered by default, or what the fake was seeded to do with it. */
export type Fate = 'delivered' | 'bounce' | 'dropped';

/** SendGrid's ids are 22 characters of URL-safe base64. */
export function sendgridId(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}

/** Every mail the fake accepted, queryable as the Email Activity feed sees it (after its delay). */
export class MailLog {
  messages: SentMessage[] = [];

  add(
    mail: ValidMail,
    request: unknown,
    now: number,
    subjectOf: (r: Recipient) => string | undefined,
  ): SentMessage {
    const xMessageId = sendgridId();
    const message: SentMessage = {
      xMessageId,
      receivedAt: now,
      from: mail.from,
      templateId: mail.templateId,
      categories: mail.categories,
      request,
      copies: mail.recipients.map((r, i) => ({
        ...r,
        msgId: `${xMessageId}.filterdrecv-fake-${i}-${now.toString(16).toUpperCase()}.0`,
        subject: subjectOf(r),
        status: 'processed',
        lastEventTime: now,
      })),
    };
    this.messages.push(message);
    return message;
  }

  /** Activity rows visible at `now` (the feed lags the send by `delayMs`), newest first. */
  activity(now: number, delayMs: number): { row: ActivityRow; copy: SentCopy }[] {
    const rows: { row: ActivityRow; copy: SentCopy; at: number }[] = [];
    for (const message of this.messages) {
      if (message.receivedAt + delayMs > now) continue;
      for (const copy of message.copies) {
        rows.push({
          at: message.receivedAt,
          copy,
          row: {
            msg_id: copy.msgId,
            from_email: message.from,
            to_email: copy.email,
            subject: copy.subject ?? '',
            status: copy.status,
            template_id: message.templateId ?? '',
            categories: message.categories,
            unique_args: copy.customArgs,
          },
        });
      }
    }
    return rows.sort((a, b) => b.at - a.at);
  }

  /** The events a copy produces: `processed` now, then its fate a second later. */
  events(
    message: SentMessage,
    copy: SentCopy,
    fate: Fate,
    at: number,
  ): { dueAt: number; event: SendGridEvent }[] {
    const base = {
      email: copy.email,
      'smtp-id': `<${message.xMessageId}@fake.sendgrid.net>`,
      sg_message_id: copy.msgId,
      ...(message.categories.length > 0 && { category: message.categories }),
      ...copy.customArgs,
    };
    const event = (name: string, when: number, extra: Record<string, unknown> = {}) => ({
      dueAt: when,
      event: {
        ...base,
        ...extra,
        event: name,
        sg_event_id: sendgridId(),
        timestamp: Math.floor(when / 1000),
      },
    });
    const processed = event('processed', at);
    if (fate === 'dropped') return [processed, event('dropped', at, { reason: 'Bounced Address' })];
    if (fate === 'bounce') {
      return [
        processed,
        event('bounce', at + 1000, {
          reason: '550 5.1.1 The email account that you tried to reach does not exist.',
          status: '5.1.1',
          type: 'bounce',
        }),
      ];
    }
    return [processed, event('delivered', at + 1000, { response: '250 2.0.0 OK', tls: 1 })];
  }

  clear(): void {
    this.messages = [];
  }
}
