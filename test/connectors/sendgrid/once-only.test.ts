import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorClients } from '../../../src/connectors/index.js';
import { type RunningSendGridFake, startSendGridFake } from '../../../src/connectors/sendgrid/fake/index.js';
import {
  OnceOnlyMailer,
  type SendGridApi,
  sendgridConnector,
} from '../../../src/connectors/sendgrid/index.js';
import { ErrorCode } from '../../../src/core/errors.js';
import { MemoryRateLimitStore } from '../../../src/resilience/rate-limit-store.js';
import type { Database } from '../../../src/store/database.js';
import { SendLedgerStore } from '../../../src/store/send-ledger-store.js';
import { FakeClock } from '../../../src/testing/index.js';
import { freePort } from '../../helpers/cli.js';
import { type TestVault, vaultPerFile } from '../../helpers/vault.js';
import { drive, rejection } from '../../http/helpers.js';

let database: Database;
let vault: TestVault;
let fake: RunningSendGridFake;
let clock: FakeClock;
let clients: ConnectorClients;
let api: SendGridApi;
let scope = 0;

const mail = (over: Record<string, unknown> = {}) => ({
  personalizations: [{ to: [{ email: 'ada@example.com' }] }],
  from: { email: 'app@example.com' },
  subject: 'Your receipt',
  content: [{ type: 'text/plain', value: 'Thanks' }],
  ...over,
});

const mailer = (options: { emailActivity?: boolean } = {}) =>
  new OnceOnlyMailer({
    api,
    ledger: new SendLedgerStore(database),
    scope: `mail-${scope}`,
    clock,
    inFlightMs: 60_000,
    activityLagMs: 300_000,
    ...options,
  });

async function sent(): Promise<{ xMessageId: string; copies: { customArgs: Record<string, string> }[] }[]> {
  return ((await (await fetch(`${fake.url}/_fake/messages`)).json()) as { messages: never[] }).messages;
}
const fault = (rule: Record<string, unknown>) =>
  fetch(`${fake.url}/_fake/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path: '/v3/mail/send', ...rule }),
  });

vaultPerFile((d, v) => {
  database = d;
  vault = v;
});
beforeEach(async () => {
  scope++;
  fake = await startSendGridFake({ activityDelayMs: 0 });
  clock = new FakeClock(Date.now());
  clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits: new MemoryRateLimitStore(),
    clock,
    // Beyond what `drive` moves the clock by: only retry waits pass in fake time, never an attempt's limit.
    http: { timeoutMs: 600_000, deadlineMs: 600_000, retry: { budget: false, deadlineMs: 600_000 } },
  });
  await vault.connections.create({
    id: 'mail',
    provider: 'sendgrid',
    baseUrl: fake.url,
    auth: { scheme: 'bearer', token: 'SG.once.only' },
  });
  api = await clients.api('mail', sendgridConnector);
});
afterEach(async () => {
  await clients.close();
  await fake.close();
  await vault.connections.delete('mail');
});

describe('once-only sends', () => {
  it('sends once per key, marked with it; a repeat answers the first message id without sending', async () => {
    const first = await mailer().send('order-42-receipt', mail());
    expect(first.outcome).toBe('sent');
    const again = await mailer().send('order-42-receipt', mail());
    expect(again).toEqual({ messageId: first.messageId, outcome: 'already-sent' });
    const messages = await sent();
    expect(messages).toHaveLength(1);
    expect(messages[0]!.copies[0]!.customArgs).toEqual({ patchbay_send_id: 'order-42-receipt' });
  });

  it('finds a send whose answer was lost in Email Activity instead of sending it again', async () => {
    await fault({ holdAnswerMs: 60_000 });
    const controller = new AbortController();
    const lost = mailer().send('k-lost', mail(), { signal: controller.signal });
    while ((await sent()).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const error = await rejection(lost);
    expect(error.code).toBe(ErrorCode.OUTCOME_UNKNOWN);

    const early = await rejection(mailer().send('k-lost', mail()));
    expect(early).toMatchObject({ code: ErrorCode.OUTCOME_UNKNOWN, retryAfterMs: 60_000 });
    expect(early.message).toContain('may still be in flight');
    await clock.advance(60_000);
    const recovered = await mailer().send('k-lost', mail());
    expect(recovered).toEqual({ messageId: (await sent())[0]!.xMessageId, outcome: 'recovered' });
    expect(await sent()).toHaveLength(1);
    expect(await mailer().send('k-lost', mail())).toMatchObject({ outcome: 'already-sent' });
  });

  it("sends again a send that never arrived, once the feed's lag has passed", async () => {
    await fault({ reset: true });
    expect((await rejection(mailer().send('k-reset', mail()))).code).toBe(ErrorCode.OUTCOME_UNKNOWN);
    await clock.advance(60_000);
    const waiting = await rejection(mailer().send('k-reset', mail()));
    expect(waiting.message).toContain('Email Activity does not show it yet');
    expect(waiting.retryAfterMs).toBe(60_000);
    await clock.advance(240_000);
    expect(await mailer().send('k-reset', mail())).toMatchObject({ outcome: 'sent' });
    expect(await sent()).toHaveLength(1);
  });

  it('frees the key when SendGrid refuses the send (400, 429), so a corrected send goes out', async () => {
    const refused = await rejection(mailer().send('k-fix', mail({ from: { email: 'not-an-address' } })));
    expect(refused.status).toBe(400);
    expect(await mailer().send('k-fix', mail())).toMatchObject({ outcome: 'sent' });
    // A 429 is retried by the client (SendGrid acted on nothing); one that lasts frees the key.
    await fault({ status: 429, times: 0, body: { errors: [{ field: null, message: 'too many requests' }] } });
    const busy = await rejection(drive(clock, mailer().send('k-busy', mail())));
    expect(busy.status).toBe(429);
    await fetch(`${fake.url}/_fake/faults`, { method: 'DELETE' });
    expect(await drive(clock, mailer().send('k-busy', mail()))).toMatchObject({ outcome: 'sent' });
    expect(await sent()).toHaveLength(2);
  });

  it('frees the key when the send never left (connection refused on every attempt), so the retry is a fresh send', async () => {
    await vault.connections.update('mail', { baseUrl: `http://127.0.0.1:${await freePort()}` });
    api = await clients.api('mail', sendgridConnector);
    const refused = await rejection(drive(clock, mailer().send('k-down', mail())));
    expect(refused).toMatchObject({ code: ErrorCode.RETRIES_EXHAUSTED, notSent: true });
    await vault.connections.update('mail', { baseUrl: fake.url });
    api = await clients.api('mail', sendgridConnector);
    // Not OUTCOME_UNKNOWN ("may still be in flight"), as after a reset: nothing went out, nothing to look for.
    expect(await mailer().send('k-down', mail())).toMatchObject({ outcome: 'sent' });
    expect(await sent()).toHaveLength(1);
  });

  it('never re-sends an unknown outcome without Email Activity to look in', async () => {
    await fault({ status: 500, body: { errors: [{ field: null, message: 'internal error' }] } });
    const without = mailer({ emailActivity: false });
    expect((await rejection(without.send('k-blind', mail()))).code).toBe(ErrorCode.OUTCOME_UNKNOWN);
    await clock.advance(3_600_000);
    const error = await rejection(without.send('k-blind', mail()));
    expect(error.code).toBe(ErrorCode.OUTCOME_UNKNOWN);
    expect(error.message).toContain('cannot be confirmed without Email Activity');
    expect(error.classification).toBe('permanent');
    expect(await sent()).toHaveLength(0);
  });

  it('lets one of two concurrent sends with the same key go out', async () => {
    const results = await Promise.allSettled([
      mailer().send('k-race', mail()),
      mailer().send('k-race', mail()),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason.code).toBe(ErrorCode.OUTCOME_UNKNOWN);
    expect(await sent()).toHaveLength(1);
  });

  it('refuses a key it could not quote in an Email Activity query', async () => {
    const error = await rejection(mailer().send('has "quotes"', mail()));
    expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
  });
});
