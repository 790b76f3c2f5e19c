import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorClients } from '../../../src/connectors/index.js';
import { type RunningSendGridFake, startSendGridFake } from '../../../src/connectors/sendgrid/fake/index.js';
import { type SendGridApi, sendgridConnector } from '../../../src/connectors/sendgrid/index.js';
import { ErrorCode } from '../../../src/core/errors.js';
import { MemoryRateLimitStore } from '../../../src/resilience/rate-limit-store.js';
import { FakeClock } from '../../../src/testing/index.js';
import { type TestVault, vaultPerFile } from '../../helpers/vault.js';
import { drive, rejection } from '../../http/helpers.js';

let vault: TestVault;
let fake: RunningSendGridFake;
let clock: FakeClock;
let clients: ConnectorClients;
let api: SendGridApi;

const KEY = 'SG.connector-test.secret-part';
const mail = (over: Record<string, unknown> = {}) => ({
  personalizations: [{ to: [{ email: 'ada@example.com' }] }],
  from: { email: 'app@example.com' },
  subject: 'Hello',
  content: [{ type: 'text/plain', value: 'Hi' }],
  ...over,
});

vaultPerFile((_, v) => {
  vault = v;
});
beforeEach(async () => {
  fake = await startSendGridFake({ activityDelayMs: 0 });
  clock = new FakeClock(Date.now());
  clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits: new MemoryRateLimitStore(),
    clock,
    http: { timeoutMs: 600_000, deadlineMs: 600_000, retry: { budget: false, deadlineMs: 600_000 } },
  });
  await vault.connections.create({
    id: 'mail',
    provider: 'sendgrid',
    baseUrl: fake.url,
    auth: { scheme: 'bearer', token: KEY },
  });
  api = await clients.api('mail', sendgridConnector);
});
afterEach(async () => {
  await clients.close();
  await fake.close();
  for (const c of await vault.connections.list({ limit: 100 })) await vault.connections.delete(c.id);
});

const sent = async () =>
  ((await (await fetch(`${fake.url}/_fake/messages`)).json()) as { messages: { xMessageId: string }[] })
    .messages;

describe('a connection with provider: sendgrid', () => {
  it('sends with the key and Accept: application/json, and answers the X-Message-Id', async () => {
    const result = await api.send(mail());
    expect(result.sandbox).toBe(false);
    expect(result.messageId).toBe((await sent())[0]!.xMessageId);
    const sandbox = await api.send(mail({ mail_settings: { sandbox_mode: { enable: true } } }));
    expect(sandbox).toEqual({ messageId: undefined, sandbox: true });
  });

  it("reads SendGrid's errors into the message, each after its field", async () => {
    const error = await rejection(api.send(mail({ personalizations: [{ to: [{ email: 'nope' }] }] })));
    expect(error.code).toBe(ErrorCode.HTTP_CLIENT_ERROR);
    expect(error.status).toBe(400);
    expect(error.message).toContain('personalizations.0.to.0.email: Does not contain a valid address.');
  });

  it('refuses a non-string custom arg before sending, naming it', async () => {
    const error = await rejection(api.send(mail({ custom_args: { order: 42 } }) as never));
    expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(error.message).toContain('custom_args.order must be a string');
    expect(await sent()).toHaveLength(0);
  });

  it('keeps the Email Activity feed to 6 look-ups a minute', async () => {
    await fetch(`${fake.url}/_fake/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ limits: { messages: { limit: 1000, periodMs: 60_000 } } }),
    });
    const started = clock.now();
    await drive(
      clock,
      Promise.all(Array.from({ length: 7 }, (_, i) => api.messagesWithArg('k', `v${i}`))),
      // Past the 7th call's wait for the window, short of the attempts' own time limits.
      61_000,
    );
    expect(clock.now() - started).toBeGreaterThanOrEqual(60_000);
  });

  it('creates templates and versions, and lists them page by page', async () => {
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) ids.push((await api.templates.create(name)).id);
    const version = await api.templates.addVersion(ids[0]!, { name: 'v1', subject: 'Hi {{name}}' });
    expect(version.active).toBe(1);
    const listed: string[] = [];
    for await (const template of api.templates.list()) listed.push(template.id);
    expect(listed).toEqual(ids);
    expect((await api.templates.get(ids[0]!)).versions.map((v) => v.subject)).toEqual(['Hi {{name}}']);
  });

  it('names a bad setting in the connection', async () => {
    await vault.connections.create({
      id: 'eu',
      provider: 'sendgrid',
      auth: { scheme: 'bearer', token: KEY },
      metadata: { region: 'us' },
    });
    const error = await rejection(clients.api('eu', sendgridConnector));
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.message).toContain('connections.eu.metadata.region: must be "global" or "eu"');
  });
});
