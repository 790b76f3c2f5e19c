import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { HttpRequest, HttpResponse } from '../../http/http-types.js';

export interface Address {
  email: string;
  name?: string;
}

export interface Personalization {
  to: Address[];
  cc?: Address[];
  bcc?: Address[];
  subject?: string;
  headers?: Record<string, string>;
  custom_args?: Record<string, string>;
  dynamic_template_data?: Record<string, unknown>;
  send_at?: number;
}

/**
 * A `POST /v3/mail/send` body, in SendGrid's own field names (what its docs and every example use).
 * Fields not listed are passed through as given.
 * https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
 */
export interface Mail {
  personalizations: Personalization[];
  from: Address;
  reply_to?: Address;
  subject?: string;
  content?: { type: string; value: string }[];
  template_id?: string;
  /** Strings only: SendGrid refuses other types, and echoes these in every Event Webhook event. */
  custom_args?: Record<string, string>;
  categories?: string[];
  send_at?: number;
  mail_settings?: Record<string, unknown>;
  tracking_settings?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface SendResult {
  /** `X-Message-Id`: the prefix of every recipient's `sg_message_id` in events and Email Activity. */
  messageId: string | undefined;
  /** Sandbox mode validated the mail and sent nothing (SendGrid answers 200 instead of 202). */
  sandbox: boolean;
}

/** At most 1,000 personalizations per request (SendGrid's limit, checked before sending). */
const MAX_PERSONALIZATIONS = 1000;

/** The request for one mail send. Catches locally what SendGrid would refuse and a caller can fix. */
export function mailSendRequest(mail: Mail, signal?: AbortSignal): HttpRequest {
  const bad = (message: string) => new PatchbayError(ErrorCode.INVALID_ARGUMENT, `SendGrid mail: ${message}`);
  if (typeof mail !== 'object' || mail === null) throw bad('must be an object');
  if (!Array.isArray(mail.personalizations) || mail.personalizations.length === 0) {
    throw bad('personalizations must list at least one');
  }
  if (mail.personalizations.length > MAX_PERSONALIZATIONS) {
    throw bad(
      `personalizations: at most ${MAX_PERSONALIZATIONS} per send, got ${mail.personalizations.length}`,
    );
  }
  if (typeof mail.from?.email !== 'string' || mail.from.email === '') throw bad('from.email is required');
  checkArgs(mail.custom_args, 'custom_args', bad);
  mail.personalizations.forEach((p, i) => {
    checkArgs(p?.custom_args, `personalizations.${i}.custom_args`, bad);
  });
  return {
    method: 'POST',
    path: '/v3/mail/send',
    // SendGrid answers 406 to a request that does not accept JSON.
    headers: { accept: 'application/json' },
    body: mail,
    ...(signal && { signal }),
  };
}

/** 202 with `X-Message-Id` when accepted; 200 with nothing in sandbox mode. */
export function processMailSend(response: HttpResponse): SendResult {
  return { messageId: response.headers['x-message-id'] || undefined, sandbox: response.status === 200 };
}

function checkArgs(args: unknown, where: string, bad: (m: string) => PatchbayError): void {
  if (args === undefined) return;
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    throw bad(`${where} must be an object of strings`);
  for (const [key, value] of Object.entries(args)) {
    if (typeof value !== 'string')
      throw bad(`${where}.${key} must be a string (SendGrid refuses ${typeof value} values)`);
  }
}
