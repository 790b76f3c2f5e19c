import type { FastifyInstance } from 'fastify';
import { type FakeKit, INVALID_JSON } from '../../fake-kit/index.js';
import { parseActivityQuery } from './activity-query.js';
import type { apiGuard } from './api-guard.js';
import type { EventWebhook, SendGridEvent } from './event-webhook.js';
import { type Fate, type MailLog, sendgridId } from './mail-log.js';
import { validateMail } from './mail-validation.js';
import { MESSAGES, sendError, sendErrors } from './sendgrid-errors.js';
import { renderHandlebars, type TemplateStore } from './templates.js';

export interface MailState {
  log: MailLog;
  templates: TemplateStore;
  webhook: EventWebhook;
  fates: ReadonlyMap<string, Fate>;
  activityDelayMs: number;
  counts: { sandbox: number };
}

/**
 * `POST /v3/mail/send` (202 and `X-Message-Id`; every validation error at once; sandbox mode 200),
 * `GET /v3/messages` (the Email Activity feed, lagging the sends), and the fake's own view of what
 * it accepted (`GET /_fake/messages`) with a way to make recipients open or click (`POST /_fake/events`).
 * https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
 */
export function mailRoutes(
  app: FastifyInstance,
  state: MailState,
  guard: ReturnType<typeof apiGuard>,
  k: FakeKit,
): void {
  const { log, webhook, fates, activityDelayMs, counts } = state;
  app.post('/v3/mail/send', async (request, reply) => {
    if (!guard('mail.send')('mail.send')(request, reply)) return reply;
    if (request.body === INVALID_JSON || request.body === undefined || Buffer.isBuffer(request.body)) {
      return sendError(reply, 400, MESSAGES.badRequest);
    }
    const { errors, mail } = validateMail(request.body, (id) => state.templates.active(id) !== undefined);
    if (!mail) return sendErrors(reply, 400, errors);
    // Sandbox mode validates and answers 200 without sending anything.
    if (mail.sandbox) {
      counts.sandbox++;
      return reply.status(200).send();
    }
    const now = k.clock.now();
    const version = mail.templateId ? state.templates.active(mail.templateId) : undefined;
    const message = log.add(mail, request.body, now, (r) =>
      version ? renderHandlebars(version.subject, r.templateData) : (r.subject ?? mail.subject),
    );
    const at = Math.max(now, (mail.sendAt ?? 0) * 1000);
    for (const copy of message.copies) {
      const fate = fates.get(copy.email.toLowerCase()) ?? 'delivered';
      const events = log.events(message, copy, fate, at);
      for (const { dueAt, event } of events) {
        webhook.enqueue(dueAt, [event]);
        k.clock.at(dueAt, () => {
          copy.lastEventTime = dueAt;
          if (event.event === 'delivered') copy.status = 'delivered';
          if (event.event === 'bounce' || event.event === 'dropped') copy.status = 'not_delivered';
        });
      }
    }
    k.count('mail:accepted');
    return reply.status(202).header('x-message-id', message.xMessageId).send();
  });

  app.get('/v3/messages', async (request, reply) => {
    if (!guard('messages')('messages.read')(request, reply)) return reply;
    const query = request.query as { query?: string; limit?: string };
    const limit = query.limit === undefined ? 10 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return sendError(reply, 400, 'limit must be an integer between 1 and 1000', 'limit');
    }
    let predicate = (_row: unknown) => true;
    if (query.query !== undefined) {
      try {
        predicate = parseActivityQuery(query.query) as (row: unknown) => boolean;
      } catch (error) {
        return sendError(reply, 400, `invalid query: ${(error as Error).message}`, 'query');
      }
    }
    const rows = log.activity(k.clock.now(), activityDelayMs).filter(({ row }) => predicate(row));
    return {
      messages: rows.slice(0, limit).map(({ row, copy }) => ({
        from_email: row.from_email,
        msg_id: row.msg_id,
        subject: row.subject,
        to_email: row.to_email,
        status: row.status,
        opens_count: 0,
        clicks_count: 0,
        last_event_time: new Date(copy.lastEventTime).toISOString().slice(0, 19) + 'Z',
      })),
    };
  });

  app.get('/_fake/messages', async () => ({ messages: log.messages }));
  app.post('/_fake/events', async (request, reply) => {
    const input = request.body as { msgId?: unknown; event?: unknown } | undefined;
    const copy = log.messages
      .flatMap((m) => m.copies.map((c) => ({ m, c })))
      .find((x) => x.c.msgId === input?.msgId);
    if (!copy || (input?.event !== 'open' && input?.event !== 'click')) {
      return reply
        .status(400)
        .send({ error: 'send { "msgId": "<sg_message_id>", "event": "open" | "click" }' });
    }
    const now = k.clock.now();
    const event: SendGridEvent = {
      email: copy.c.email,
      sg_message_id: copy.c.msgId,
      ...copy.c.customArgs,
      event: input.event,
      sg_event_id: sendgridId(),
      timestamp: Math.floor(now / 1000),
    };
    webhook.enqueue(now, [event]);
    return { queued: event };
  });
}
