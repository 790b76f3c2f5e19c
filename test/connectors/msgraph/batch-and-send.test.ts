import { describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { ErrorCode } from '../../../src/core/errors.js';
import type { FakeClock } from '../../../src/testing/index.js';
import { freePort } from '../../helpers/cli.js';
import type { TestVault } from '../../helpers/vault.js';
import { rejection } from '../../http/helpers.js';
import { type GraphClients, graphConnection } from './connection.js';
import { drive, graphSuite } from './graph-suite.js';
import type { Json } from './helpers.js';

let vault: TestVault;
let fake: RunningMsGraphFake;
let graph: GraphClients;
let clock: FakeClock;
graphSuite(
  (suite) => {
    ({ vault, fake, graph, clock } = suite);
  },
  { sends: { inFlightMs: 20_000, settleMs: 10_000 } },
);

const throttle = (body: Record<string, unknown>) =>
  fetch(`${fake.url}/_fake/throttle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const inbox = () => fake.graph.control.snapshot('adele@contoso.test', 'inbox');
const sent = () => fake.graph.control.snapshot('adele@contoso.test', 'sentitems');

describe('the $batch helper', () => {
  it('retries each throttled request after its own Retry-After, in request order', async () => {
    const mail = await graph.mail();
    const messages = inbox().slice(0, 3);
    await throttle({ path: `/v1.0/users/adele@contoso.test/messages/${messages[1]!.id}`, retryAfter: 2.5 });
    await throttle({
      path: `/v1.0/users/adele@contoso.test/messages/${messages[2]!.id}`,
      retryAfter: 0.5,
      times: 2,
    });
    const started = clock.now();
    const answers = await drive(
      clock,
      mail.batch(
        messages.map((m, i) => ({
          id: String(i),
          method: 'GET',
          url: `/users/adele@contoso.test/messages/${m.id}?$select=subject`,
        })),
      ),
    );
    expect(answers.map((a) => [a.id, a.status, a.attempts])).toEqual([
      ['0', 200, 1],
      ['1', 200, 2],
      ['2', 200, 3],
    ]);
    expect(answers.map((a) => (a.body as Json).subject)).toEqual(messages.map((m) => m.subject));
    expect(clock.now() - started).toBeGreaterThanOrEqual(2500);
  });

  it('sends a request again with the dependency that was throttled, and fails it with a dependency that failed', async () => {
    const mail = await graph.mail();
    const [a, b] = inbox();
    await throttle({ path: `/v1.0/users/adele@contoso.test/messages/${a!.id}`, retryAfter: 1 });
    const answers = await drive(
      clock,
      mail.batch([
        { id: 'read', method: 'GET', url: `/users/adele@contoso.test/messages/${a!.id}` },
        {
          id: 'mark',
          method: 'PATCH',
          url: `/users/adele@contoso.test/messages/${a!.id}`,
          body: { isRead: true },
          dependsOn: ['read'],
        },
        { id: 'gone', method: 'GET', url: '/users/adele@contoso.test/messages/AAMkADnothere=' },
        {
          id: 'after',
          method: 'PATCH',
          url: `/users/adele@contoso.test/messages/${b!.id}`,
          body: { isRead: true },
          dependsOn: ['gone'],
        },
      ]),
    );
    expect(answers.map((x) => [x.id, x.status])).toEqual([
      ['read', 200],
      ['mark', 200],
      ['gone', 404],
      ['after', 424],
    ]);
    expect(inbox().find((m) => m.id === b!.id)!.isRead).toBe(b!.isRead);
  });

  it('splits more than 20 requests and several mailboxes into batches of one mailbox each', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 20 });
    const mail = await graph.mail();
    const requests = [
      ...inbox().map((m) => ({
        id: m.id as string,
        method: 'GET',
        url: `/users/adele@contoso.test/messages/${m.id}`,
      })),
      { id: 'alex', method: 'GET', url: '/users/alex@contoso.test/mailFolders/inbox' },
    ];
    const answers = await drive(clock, mail.batch(requests));
    expect(answers).toHaveLength(28);
    expect(answers.every((x) => x.status === 200)).toBe(true);
    const counters = ((await (await fetch(`${fake.url}/_fake/stats`)).json()) as Json).counters;
    expect(counters['status:200']).toBe(28 + 3 + 1); // sub-requests, three batches, one token
  });

  it('refuses requests it cannot send, naming them', async () => {
    const mail = await graph.mail();
    const dup = await rejection(
      mail.batch([
        { id: 'a', method: 'GET', url: '/users' },
        { id: 'a', method: 'GET', url: '/users' },
      ]),
    );
    expect(dup.message).toContain('"a" is used twice');
    const later = await rejection(mail.batch([{ id: 'a', method: 'GET', url: '/users', dependsOn: ['b'] }]));
    expect(later.message).toContain('not an earlier request');
  });
});

const message = {
  subject: 'Quarterly numbers',
  body: { contentType: 'Text' as const, content: 'Attached.' },
  to: ['alex@contoso.test'],
  attachments: [{ name: 'q3.csv', contentType: 'text/csv', content: 'a,b\n1,2\n' }],
};

describe('sendMail', () => {
  it('sends once per idempotency key: a retry after the answer was lost finds the sent copy', async () => {
    const mail = await graph.mail();
    // The send goes through, but its answer never reaches Patchbay (held past the call's timeout).
    await fetch(`${fake.url}/_fake/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/v1.0/users/adele@contoso.test/sendMail', holdAnswerMs: 60_000 }),
    });
    const lost = await rejection(
      mail.sendMail('adele@contoso.test', message, {
        idempotencyKey: 'order-42',
        signal: AbortSignal.timeout(1000),
      }),
    );
    expect(lost.code).toBe(ErrorCode.ABORTED);
    expect(sent()).toHaveLength(1);
    const again = await drive(
      clock,
      mail.sendMail('adele@contoso.test', message, { idempotencyKey: 'order-42' }),
    );
    expect(again).toMatchObject({ status: 'already-sent', messageId: sent()[0]!.id });
    expect(sent()).toHaveLength(1);
    expect(
      fake.graph.control
        .snapshot('alex@contoso.test', 'inbox')
        .filter((m) => m.subject === 'Quarterly numbers'),
    ).toHaveLength(1);
    // Now recorded as done: no look-up at all.
    expect(await mail.sendMail('adele@contoso.test', message, { idempotencyKey: 'order-42' })).toMatchObject({
      status: 'already-sent',
    });
  });

  it('sends again when an earlier attempt left no copy once the settle time is over', async () => {
    const mail = await graph.mail();
    await fetch(`${fake.url}/_fake/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/v1.0/users/adele@contoso.test/sendMail', reset: true }),
    });
    const dropped = await rejection(mail.sendMail('adele@contoso.test', message, { idempotencyKey: 'k-2' }));
    expect(dropped.code).toBe(ErrorCode.NETWORK_ERROR);
    expect(sent()).toHaveLength(0);
    await clock.advance(30_000);
    const started = clock.now();
    expect(
      await drive(clock, mail.sendMail('adele@contoso.test', message, { idempotencyKey: 'k-2' })),
    ).toEqual({
      status: 'sent',
    });
    expect(sent()).toHaveLength(1);
    expect(clock.now() - started).toBeLessThan(10_000); // the settle time had passed since the attempt
  });

  it('frees the key when the send never left (connection refused on every attempt): the retry sends at once', async () => {
    await vault.connections.update('mail', { baseUrl: `http://127.0.0.1:${await freePort()}` });
    const refused = await rejection(
      drive(
        clock,
        (await graph.mail()).sendMail('adele@contoso.test', message, { idempotencyKey: 'k-down' }),
      ),
    );
    // Five refusals open the connection's circuit: the sixth attempt is refused before it is made.
    expect(refused).toMatchObject({ code: ErrorCode.CIRCUIT_OPEN, notSent: true });
    await vault.connections.update('mail', { baseUrl: fake.url });
    // Not OUTCOME_UNKNOWN until the settle time is over, as after a reset: nothing went out.
    expect(
      await (await graph.mail()).sendMail('adele@contoso.test', message, { idempotencyKey: 'k-down' }),
    ).toEqual({ status: 'sent' });
    expect(sent()).toHaveLength(1);
  });

  it('marks the message with the key: a header recipients see, a property Sent Items is searched by', async () => {
    const mail = await graph.mail();
    await mail.sendMail('adele@contoso.test', message, { idempotencyKey: 'k-3' });
    const received = fake.graph.control
      .snapshot('alex@contoso.test', 'inbox')
      .find((m) => m.subject === 'Quarterly numbers')!;
    const [copy] = fake.graph.directory
      .user('alex@contoso.test')!
      .messagesIn(undefined)
      .filter((m) => m.id === received.id);
    expect(copy!.fields.internetMessageHeaders).toContainEqual({
      name: 'X-Patchbay-Idempotency-Key',
      value: 'k-3',
    });
    expect(copy!.attachments.map((a) => a.bytes.toString())).toEqual(['a,b\n1,2\n']);
  });

  it('does not send again while an earlier attempt may still be in flight: OUTCOME_UNKNOWN, ask later', async () => {
    const mail = await graph.mail();
    await fetch(`${fake.url}/_fake/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/v1.0/users/adele@contoso.test/sendMail', reset: true }),
    });
    await rejection(mail.sendMail('adele@contoso.test', message, { idempotencyKey: 'k-4' }));
    await clock.advance(5_000);
    const early = await rejection(mail.sendMail('adele@contoso.test', message, { idempotencyKey: 'k-4' }));
    expect(early).toMatchObject({ code: ErrorCode.OUTCOME_UNKNOWN, retryAfterMs: 2_000 });
    expect(sent()).toHaveLength(0);
    expect(
      (await rejection(mail.sendMail('adele@contoso.test', message, { idempotencyKey: 'has space' }))).code,
    ).toBe(ErrorCode.INVALID_ARGUMENT);
  });

  it('says admin consent is needed when Graph refuses the send, and frees the key', async () => {
    const created = (await (
      await fetch(`${fake.url}/_fake/apps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ permissions: ['Mail.ReadWrite'] }),
      })
    ).json()) as Json;
    await vault.connections.create({
      ...graphConnection(fake, 'noconsent', created.app.clientSecret),
      auth: {
        ...(graphConnection(fake).auth as object),
        clientId: created.app.clientId,
        clientSecret: created.app.clientSecret,
      } as never,
    });
    const mail = await graph.mail('noconsent');
    const refused = await rejection(mail.sendMail('adele@contoso.test', message, { idempotencyKey: 'k-5' }));
    expect(refused.code).toBe(ErrorCode.PERMISSION_DENIED);
    expect(refused.message).toContain('Mail.Send application permission with admin consent');
    const sendAs = await rejection(
      (await graph.mail()).sendMail('adele@contoso.test', { ...message, from: 'ceo@contoso.test' }),
    );
    expect(sendAs.message).toContain('ErrorSendAsDenied');
  });
});
