import { z } from 'zod';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { HttpRequest } from '../../http/http-types.js';

export const activityMessageSchema = z
  .object({
    msg_id: z.string(),
    from_email: z.string().optional(),
    to_email: z.string().optional(),
    subject: z.string().optional(),
    status: z.string().optional(),
    last_event_time: z.string().optional(),
  })
  .loose();

export type ActivityMessage = z.output<typeof activityMessageSchema>;

const answerSchema = z.object({ messages: z.array(activityMessageSchema) });

/** Custom-arg names and values the look-up can quote safely in the query language. */
const QUOTABLE = /^[^"'\\\r\n]{1,200}$/;

/**
 * The Email Activity feed (`GET /v3/messages`, an add-on, 6 requests a minute): finds the messages
 * sent with a custom argument, which is how a send of unknown outcome is confirmed before a re-send.
 * The feed lags the send. https://www.twilio.com/docs/sendgrid/api-reference/email-activity/filter-all-messages
 */
export function messagesWithArgRequest(
  name: string,
  value: string,
  limit = 10,
): HttpRequest<z.output<typeof answerSchema>> {
  for (const [what, text] of [
    ['custom arg name', name],
    ['custom arg value', value],
  ] as const) {
    if (!QUOTABLE.test(text)) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `the ${what} cannot hold quotes, backslashes or line breaks, and is at most 200 characters`,
      );
    }
  }
  return {
    path: '/v3/messages',
    headers: { accept: 'application/json' },
    query: { query: `unique_args['${name}']="${value}"`, limit },
    schema: answerSchema,
  };
}

/** `sg_message_id`/`msg_id` is `<X-Message-Id>.<server part>`: the part a send answered with. */
export function sendMessageId(msgId: string): string {
  const dot = msgId.indexOf('.');
  return dot < 0 ? msgId : msgId.slice(0, dot);
}
