import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/index.js';
import type { HealthService } from '../../src/health/health-service.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { httpDestinationFromConfig } from '../../src/webhooks/delivery/destinations.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { dialects } from '../helpers/databases.js';
import { adminApi, openTestEngine, type TestEngine } from '../helpers/engine.js';
import { MailServer } from '../helpers/mail-server.js';
import { Receiver } from '../helpers/receiver.js';

const MINUTE = 60_000;
const PASSWORD = 'smtp-pass-0f3c9a';
const dialect = dialects[0]!;

describe('e-mail destinations (SMTP)', () => {
  const secret = generateWebhookSecret();
  let app: Receiver;
  let mail: MailServer;
  let t: TestEngine | undefined;

  beforeAll(async () => {
    app = await new Receiver([secret]).start();
    mail = await new MailServer({ alerts: PASSWORD }).start();
  });
  afterAll(async () => {
    await app.stop();
    await mail.stop();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    mail.received.length = 0;
    mail.reply = undefined;
  });

  const emailDestination = (extra: Record<string, unknown> = {}) => ({
    id: 'ops-mail',
    url: mail.url,
    events: ['patchbay.health.*'],
    email: {
      from: 'Patchbay <patchbay@example.com>',
      to: ['ops@example.com', 'oncall@example.com'],
      username: 'alerts',
      password: PASSWORD,
    },
    ...extra,
  });

  it('mails the threshold event when a destination starts failing, retrying while the mail server defers it', async () => {
    const clock = new FakeClock(Date.now());
    t = await openTestEngine(
      dialect,
      {
        destinations: [{ id: 'app', url: app.url, secrets: [secret], events: ['api.*'] }, emailDestination()],
        delivery: { allowedNetworks: ['127.0.0.0/8'] },
      },
      { clock },
    );
    const engine = t.engine;
    const health = engine.modules.find((m) => m.name === 'health')!.service as HealthService;
    const signal = new AbortController().signal;
    const deliver = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const event = await engine.publish({ source: 'api', type: 'order.created', payload: { i } });
        const [delivery] = await engine.delivery.list({ eventId: event.id, destinationId: 'app', limit: 1 });
        await engine.delivery.attempt(delivery!.id, signal);
      }
    };
    const attemptMail = async () => {
      const pending = await engine.delivery.list({ destinationId: 'ops-mail', status: 'pending', limit: 10 });
      for (const d of pending) await engine.delivery.attempt(d.id, signal);
      return pending;
    };

    app.behaviour = (_r, res) => void res.writeHead(503).end();
    await deliver(10);
    await health.watch();
    // The mail server defers the first try (451): the delivery is retried on the schedule.
    mail.reply = () => ({ code: 451, message: 'Try again later' });
    const [alert] = await attemptMail();
    expect(alert).toBeDefined();
    expect(mail.received).toEqual([]);
    const deferred = await engine.delivery.get(alert!.id);
    expect(deferred).toMatchObject({ status: 'pending', attempts: 1 });
    expect(deferred!.lastError).toMatch(/^SMTP 451/);
    const [first] = (await engine.delivery.attempts(alert!.id)) as { errorCode: string; url: string }[];
    expect(first).toMatchObject({ errorCode: 'MAIL_REJECTED', url: mail.url });

    mail.reply = undefined;
    await clock.advance(MINUTE);
    await attemptMail();
    expect(await engine.delivery.get(alert!.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(mail.received).toHaveLength(1);
    const [message] = mail.received;
    expect(message!.user).toBe('alerts');
    expect(message!.from).toBe('patchbay@example.com');
    expect(message!.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(message!.headers.subject).toMatch(
      /^Patchbay: destination "app" is failing \(score \d+, was healthy\)$/,
    );
    expect(message!.headers['message-id']).toBe(`<${alert!.eventId}.ops-mail@patchbay>`);
    expect(message!.text).toContain('-60: 10 of the last 10 attempts failed');
    expect(message!.text).toContain(`Event: patchbay.health.failing ${alert!.eventId}`);
    expect(message!.text).toContain('"to": "failing"');
    // The password reaches the server's AUTH and nothing else.
    expect(t.logs.text).not.toContain(PASSWORD);
    expect(message!.raw).not.toContain(PASSWORD);
  }, 60_000);

  it('is made through the API: the password is sealed, never answered, and still logs in', async () => {
    const token = 'a'.repeat(32);
    t = await openTestEngine(dialect, {
      server: { adminToken: token },
      delivery: { allowedNetworks: ['127.0.0.0/8'] },
    });
    const api = adminApi(t.app, token);
    const created = await api('POST', '/destinations', emailDestination({ events: ['api.*'] }));
    expect(created.statusCode).toBe(201);
    const body = created.json() as Record<string, unknown>;
    expect(body).toMatchObject({
      id: 'ops-mail',
      kind: 'http',
      format: 'email',
      url: mail.url,
      secrets: 0,
      email: {
        from: 'Patchbay <patchbay@example.com>',
        to: ['ops@example.com', 'oncall@example.com'],
        username: 'alerts',
        password: true,
      },
    });
    expect(body.secret).toBeUndefined(); // an e-mail is not signed: no secret is generated
    expect(created.body).not.toContain(PASSWORD);
    const row = await t.db.db
      .selectFrom('destinations')
      .selectAll()
      .where('id', '=', 'ops-mail')
      .executeTakeFirst();
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
    expect((await api('GET', '/destinations/ops-mail')).body).not.toContain(PASSWORD);

    const event = await t.engine.publish({ source: 'api', type: 'order.created', payload: { n: 1 } });
    const [delivery] = await t.engine.delivery.list({
      eventId: event.id,
      destinationId: 'ops-mail',
      limit: 1,
    });
    await t.engine.delivery.attempt(delivery!.id, new AbortController().signal);
    expect(await t.engine.delivery.get(delivery!.id)).toMatchObject({ status: 'succeeded' });
    expect(mail.received.map((m) => [m.user, m.headers.subject])).toEqual([
      ['alerts', 'Patchbay: api.order.created'],
    ]);

    // A wrong password is the server's refusal, recorded, retried, never shown.
    const patched = await api('PATCH', '/destinations/ops-mail', {
      email: { ...emailDestination().email, password: 'wrong-one' },
    });
    expect(patched.statusCode).toBe(200);
    const again = await t.engine.publish({ source: 'api', type: 'order.created', payload: { n: 2 } });
    const [refused] = await t.engine.delivery.list({
      eventId: again.id,
      destinationId: 'ops-mail',
      limit: 1,
    });
    await t.engine.delivery.attempt(refused!.id, new AbortController().signal);
    const [attempt] = (await t.engine.delivery.attempts(refused!.id)) as {
      errorCode: string;
      errorMessage: string;
    }[];
    expect(attempt!.errorCode).toBe('AUTH_FAILED');
    expect(attempt!.errorMessage).toMatch(/^SMTP login refused/);
    expect(await t.engine.delivery.get(refused!.id)).toMatchObject({ status: 'pending' });
    expect(t.logs.text).not.toContain(PASSWORD);
    expect(t.logs.text).not.toContain('wrong-one');
  }, 60_000);

  it('dials the mail server through the SSRF rule: loopback is refused without an allowed network', async () => {
    const token = 'b'.repeat(32);
    t = await openTestEngine(dialect, {
      server: { adminToken: token },
      destinations: [emailDestination({ events: ['api.*'] })],
    });
    const event = await t.engine.publish({ source: 'api', type: 'order.created', payload: {} });
    const [delivery] = await t.engine.delivery.list({
      eventId: event.id,
      destinationId: 'ops-mail',
      limit: 1,
    });
    await t.engine.delivery.attempt(delivery!.id, new AbortController().signal);
    const [attempt] = (await t.engine.delivery.attempts(delivery!.id)) as { errorCode: string }[];
    expect(attempt!.errorCode).toBe('SSRF_BLOCKED');
    expect(mail.received).toEqual([]);
    const refused = await adminApi(t.app, token)('POST', '/destinations', {
      ...emailDestination({ id: 'other' }),
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(/127\.0\.0\.1 is blocked/);
  }, 60_000);

  it('refuses unusable e-mail settings naming the field', () => {
    const bad = (destination: Record<string, unknown>) => {
      try {
        parseConfig({ destinations: [{ id: 'm', url: 'smtp://mail.example.com', ...destination }] });
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    const email = { from: 'a@example.com', to: ['b@example.com'] };
    expect(bad({ email: { ...email, to: [] } })).toMatch(
      /destinations\.0\.email\.to|destinations\[0\]\.email\.to/,
    );
    expect(bad({ email: { ...email, from: 'nobody' } })).toMatch(/email\.from.*must be an address/);
    expect(bad({ email: { ...email, to: ['b@example.com\r\nBcc: x@evil.test'] } })).toMatch(/email\.to/);
    expect(bad({ email: { ...email, smtpHost: 'x' } })).toMatch(/smtpHost/);

    const built = (destination: Record<string, unknown>) => {
      try {
        const [config] = parseConfig({ destinations: [{ id: 'm', ...destination }] }).destinations;
        httpDestinationFromConfig(config!, 15_000);
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    const smtp = 'smtp://mail.example.com';
    expect(built({ url: smtp, email })).toBe('accepted');
    expect(built({ url: smtp })).toBe('destination "m": email: an smtp(s) url needs email.from and email.to');
    expect(built({ url: smtp, email, secrets: [secret] })).toMatch(
      /^destination "m": secrets: an e-mail is not signed/,
    );
    expect(built({ url: smtp, email, headers: { 'x-a': '1' } })).toMatch(/"m": headers:/);
    expect(built({ url: smtp, email, format: 'slack' })).toMatch(/format must be "email"/);
    expect(built({ url: `${smtp}/path`, email })).toMatch(/url: an smtp\(s\) url names the mail server only/);
    expect(built({ url: 'smtp://u:p@mail.example.com', email })).toMatch(
      /use email\.username and email\.password/,
    );
    expect(built({ url: smtp, email: { ...email, password: 'x' } })).toMatch(
      /email\.password needs email\.username/,
    );
    expect(built({ url: 'https://hooks.example.com', secrets: [secret], email })).toMatch(
      /email: only an smtp/,
    );
    expect(built({ url: 'https://hooks.example.com', secrets: [secret], format: 'email' })).toMatch(
      /format "email" needs an smtp/,
    );
  });
});
