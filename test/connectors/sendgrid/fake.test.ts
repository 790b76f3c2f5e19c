import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningSendGridFake, startSendGridFake } from '../../../src/connectors/sendgrid/fake/index.js';
import { verifyWebhook } from '../../../src/webhooks/verify/index.js';
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js';

const KEY = 'SG.test-key-id.test-key-secret';
let fake: RunningSendGridFake;
let closers: (() => Promise<void>)[] = [];

/**
 * `@sendgrid/mail` unmodified, on its own `@sendgrid/client` (which the templates and activity calls
 * use too): the base URL is set after `setApiKey`, which resets it.
 */
function mailer(key = KEY): MailService & { api: Client } {
  const client = new Client();
  client.setApiKey(key);
  client.setDefaultRequest('baseUrl', `${fake.url}/`);
  const mail = new MailService();
  mail.setClient(client);
  return Object.assign(mail, { api: client });
}

const message = (over: Record<string, unknown> = {}) => ({
  to: 'ada@example.com',
  from: 'app@example.com',
  subject: 'Hello',
  text: 'Hi Ada',
  ...over,
});

const control = async <T>(path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${fake.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as T;
};

interface SdkError {
  code: number;
  message: string;
  response: {
    headers: Record<string, string>;
    body: { errors: { message: string; field: string | null }[] };
  };
}
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: SdkError) => error,
  );

beforeEach(async () => {
  fake = await startSendGridFake();
});
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
  await fake.close();
});

describe('SendGrid fake with @sendgrid/mail', () => {
  it('accepts a send with 202, an empty body and X-Message-Id, and logs it with its custom args', async () => {
    const [response, body] = await mailer().send(message({ customArgs: { order: '42' } }));
    expect(response.statusCode).toBe(202);
    expect(body).toBe('');
    const id = response.headers['x-message-id'];
    expect(id).toMatch(/^[\w-]{22}$/);
    expect(response.headers['x-ratelimit-remaining']).toBeDefined();
    const { messages } = await control<{
      messages: { xMessageId: string; copies: { customArgs: object }[] }[];
    }>('/_fake/messages');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ xMessageId: id, copies: [{ customArgs: { order: '42' } }] });
  });

  it('answers validation errors with 400, the standard reason phrase and every error by field', async () => {
    const error = await failure(
      mailer().send({ to: 'not-an-address', from: 'app@example.com', text: 'x' } as never),
    );
    expect(error.code).toBe(400);
    expect(error.message).toBe('Bad Request');
    const fields = error.response.body.errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['personalizations.0.to.0.email', 'subject']));
    const custom = await failure(mailer().send(message({ customArgs: { order: 42 } }) as never));
    expect(custom.response.body.errors).toEqual([
      expect.objectContaining({
        field: 'custom_args.order',
        message: 'Invalid type. Expected: string, given: integer.',
      }),
    ]);
  });

  it('refuses an unknown key with 401 and a key without the mail.send scope with 403', async () => {
    const unauthorized = await failure(mailer('not-a-sendgrid-key').send(message()));
    expect(unauthorized.code).toBe(401);
    expect(unauthorized.message).toBe('Unauthorized');
    expect(unauthorized.response.body.errors[0]!.message).toBe(
      'The provided authorization grant is invalid, expired, or revoked',
    );
    await control('/_fake/seed', { apiKeys: [{ key: 'SG.read.only', scopes: ['templates.read'] }] });
    const forbidden = await failure(mailer('SG.read.only').send(message()));
    expect(forbidden.code).toBe(403);
    expect(forbidden.message).toBe('Forbidden');
  });

  it('answers 406 to a request that does not accept JSON', async () => {
    const response = await fetch(`${fake.url}/v3/mail/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, accept: 'text/html', 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(response.status).toBe(406);
    expect(response.statusText).toBe('Not Acceptable');
  });

  it('counts each refresh period per endpoint and answers 429 "too many requests" with the reset', async () => {
    await control('/_fake/seed', { limits: { 'mail.send': { limit: 2, periodMs: 60_000 } } });
    const mail = mailer();
    await mail.send(message());
    const [second] = await mail.send(message());
    expect(second.headers['x-ratelimit-remaining']).toBe('0');
    const limited = await failure(mail.send(message()));
    expect(limited.code).toBe(429);
    expect(limited.message).toBe('Too Many Requests');
    expect(limited.response.body.errors[0]!.message).toBe('too many requests');
    const reset = Number(limited.response.headers['x-ratelimit-reset']) * 1000;
    expect(reset).toBeGreaterThan(fake.clock.now());
    await control('/_fake/clock', { now: reset });
    expect((await mail.send(message()))[0].statusCode).toBe(202);
  });

  it('answers an injected 500 with the standard reason phrase (the SDK never retries)', async () => {
    await control('/_fake/faults', {
      path: '/v3/mail/send',
      status: 500,
      body: { errors: [{ field: null, message: 'internal error' }] },
    });
    const error = await failure(mailer().send(message()));
    expect(error.code).toBe(500);
    expect(error.message).toBe('Internal Server Error');
    const stats = await control<{ messages: number; counters: Record<string, number> }>('/_fake/stats');
    expect(stats.messages).toBe(0);
    expect(stats.counters.requests).toBe(1);
  });

  it('validates but sends nothing in sandbox mode, answering 200', async () => {
    const [response] = await mailer().send(message({ mailSettings: { sandboxMode: { enable: true } } }));
    expect(response.statusCode).toBe(200);
    expect((await control<{ messages: number }>('/_fake/stats')).messages).toBe(0);
  });

  it('sends with a dynamic template made through the templates API, rendering its subject', async () => {
    const mail = mailer();
    const [, template] = await mail.api.request({
      method: 'POST',
      url: '/v3/templates',
      body: { name: 'welcome', generation: 'dynamic' },
    });
    const id = (template as { id: string }).id;
    expect(id).toMatch(/^d-[0-9a-f]{32}$/);
    await mail.api.request({
      method: 'POST',
      url: `/v3/templates/${id}/versions`,
      body: { name: 'v1', subject: 'Welcome, {{name}}', html_content: '<p>Hi {{name}}</p>', active: 1 },
    });
    const [, list] = await mail.api.request({
      method: 'GET',
      url: '/v3/templates',
      qs: { generations: 'dynamic', page_size: 10 },
    });
    expect((list as { result: { id: string }[] }).result.map((t) => t.id)).toEqual([id]);
    await mail.send({
      to: 'ada@example.com',
      from: 'app@example.com',
      templateId: id,
      dynamicTemplateData: { name: 'Ada' },
    });
    const { messages } = await control<{ messages: { copies: { subject: string }[] }[] }>('/_fake/messages');
    expect(messages[0]!.copies[0]!.subject).toBe('Welcome, Ada');
    const unknown = await failure(
      mail.send({ to: 'ada@example.com', from: 'app@example.com', templateId: 'd-'.padEnd(34, '0') }),
    );
    expect(unknown.response.body.errors[0]!.field).toBe('template_id');
  });

  it('shows sent mail in the Email Activity feed after its delay, queryable by custom args', async () => {
    const mail = mailer();
    await mail.send(message({ customArgs: { patchbay_send_id: 'send-1' } }));
    await mail.send(message({ to: 'bob@example.com', customArgs: { patchbay_send_id: 'send-2' } }));
    const query = (q: string) =>
      mail.api
        .request({ method: 'GET', url: '/v3/messages', qs: { query: q, limit: 10 } })
        .then(([, body]) => body as { messages: { to_email: string }[] });
    expect((await query(`unique_args['patchbay_send_id']="send-2"`)).messages).toEqual([]);
    await control('/_fake/clock', { advanceMs: 2_000 });
    expect((await query(`unique_args['patchbay_send_id']="send-2"`)).messages.map((m) => m.to_email)).toEqual(
      ['bob@example.com'],
    );
    expect((await query(`to_email="ada@example.com" AND status="delivered"`)).messages).toHaveLength(1);
    const bad = await failure(query('to_email = '));
    expect(bad.code).toBe(400);
  });

  it('limits the Email Activity feed to 6 requests a minute', async () => {
    const mail = mailer();
    for (let i = 0; i < 6; i++) await mail.api.request({ method: 'GET', url: '/v3/messages' });
    const limited = await failure(mail.api.request({ method: 'GET', url: '/v3/messages' }));
    expect(limited.code).toBe(429);
  });
});

describe('SendGrid fake event webhook', () => {
  it('posts signed events with \\r\\n after each and custom args as top-level keys', async () => {
    const receiver = await startWebhookReceiver();
    closers.push(receiver.close);
    const mail = mailer();
    await mail.api.request({
      method: 'PATCH',
      url: '/v3/user/webhooks/event/settings',
      body: { enabled: true, url: receiver.url },
    });
    const [, signed] = await mail.api.request({
      method: 'GET',
      url: '/v3/user/webhooks/event/settings/signed',
    });
    expect((signed as { public_key: string }).public_key).toBe(fake.publicKey);
    const described = await control<{ eventWebhook: { publicKey: string } }>('/_fake');
    expect(described.eventWebhook.publicKey).toBe(fake.publicKey);

    await mail.send(message({ customArgs: { order: '42' } }));
    await receiver.waitFor(1);
    await control('/_fake/clock', { advanceMs: 1_000 });
    await receiver.waitFor(2);
    const [processed, delivered] = receiver.received;
    expect(processed!.body.toString().endsWith('}]\r\n')).toBe(true);
    const events = [processed!, delivered!].flatMap(
      (post) => JSON.parse(post.body.toString()) as { event: string; order: string }[],
    );
    expect(events.map((e) => [e.event, e.order])).toEqual([
      ['processed', '42'],
      ['delivered', '42'],
    ]);
    for (const post of receiver.received) {
      const result = verifyWebhook('sendgrid', {
        rawBody: post.body,
        headers: post.headers,
        secrets: [fake.publicKey],
        now: fake.clock.now(),
      });
      expect(result).toMatchObject({ ok: true });
      expect(
        verifyWebhook('sendgrid', {
          rawBody: post.body.toString().trimEnd(),
          headers: post.headers,
          secrets: [fake.publicKey],
          now: fake.clock.now(),
        }),
      ).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
    }
  });

  it('retries a post the receiver refused, later on its clock, signed afresh', async () => {
    const receiver = await startWebhookReceiver([500]);
    closers.push(receiver.close);
    await control('/_fake/seed', { fates: { 'gone@example.com': 'bounce' } });
    const mail = mailer();
    await mail.api.request({
      method: 'PATCH',
      url: '/v3/user/webhooks/event/settings',
      body: { enabled: true, url: receiver.url, processed: false },
    });
    await mail.send(message({ to: 'gone@example.com' }));
    await control('/_fake/clock', { advanceMs: 1_000 });
    await receiver.waitFor(1);
    await control('/_fake/clock', { advanceMs: 60_000 });
    await receiver.waitFor(2);
    const [refused, retried] = receiver.received;
    expect(refused!.body.equals(retried!.body)).toBe(true);
    expect(Number(retried!.headers['x-twilio-email-event-webhook-timestamp'])).toBeGreaterThan(
      Number(refused!.headers['x-twilio-email-event-webhook-timestamp']),
    );
    expect(JSON.parse(retried!.body.toString())).toEqual([
      expect.objectContaining({ event: 'bounce', status: '5.1.1' }),
    ]);
    const stats = await control<{ eventWebhook: { failedPosts: number; retries: number } }>('/_fake/stats');
    expect(stats.eventWebhook).toMatchObject({ failedPosts: 1, retries: 1 });
  });
});
