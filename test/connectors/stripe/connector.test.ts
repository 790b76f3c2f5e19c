import { afterEach, describe, expect, it } from 'vitest';
import {
  type RunningStripeFake,
  type StripeFakeOptions,
  startStripeFake,
} from '../../../src/connectors/stripe/fake/index.js';
import {
  formEncode,
  type StripeApi,
  stripeConnector,
  stripeRateLimits,
  stripeSettingsSchema,
} from '../../../src/connectors/stripe/index.js';
import { ErrorCode } from '../../../src/core/errors.js';
import { rejection } from '../../http/helpers.js';
import { type ConnectorSetup, connectorSetup, driveWith } from '../github/connector-setup.js';

const KEY = 'sk_test_connector0001';

let fake: RunningStripeFake;
let setup: ConnectorSetup;

async function start(options: StripeFakeOptions = {}, metadata: Record<string, unknown> = {}) {
  fake = await startStripeFake(options);
  fake.clock.freeze();
  setup = await connectorSetup({ start: fake.clock.now() });
  await setup.vault.connections.create({
    id: 'pay',
    provider: 'stripe',
    baseUrl: fake.url,
    auth: { scheme: 'bearer', token: KEY },
    metadata,
  });
  return setup.clients.api('pay', stripeConnector) as Promise<StripeApi>;
}
afterEach(async () => {
  await setup?.close();
  await fake?.close();
});

const control = (path: string, body: unknown) =>
  fetch(`${fake.url}/_fake/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const stats = async () =>
  (await (await fetch(`${fake.url}/_fake/stats`)).json()) as {
    counters: Record<string, number>;
    paymentIntents: number;
    customers: number;
    refunds: number;
    charges: { succeeded: number; failed: number; capturedAmount: number };
  };
const VISA = { amount: 2500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };

describe('a connection with provider: stripe', () => {
  it('reads every customer page after page with starting_after, newest first', async () => {
    const stripe = await start();
    await control('seed', { customers: 250 });
    const before = (await stats()).counters.requests ?? 0;
    const ids: string[] = [];
    for await (const customer of stripe.customers.list()) ids.push(customer.id);
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    // Pages of 100: three requests, not 25 of Stripe's default 10.
    expect(((await stats()).counters.requests ?? 0) - before).toBe(3);
    const made = await stripe.customers.create({ email: 'ada@example.com', metadata: { crm: 'c-1' } });
    expect(made).toMatchObject({ email: 'ada@example.com', metadata: { crm: 'c-1' } });
    expect((await stripe.customers.update(made.id, { name: 'Ada' })).name).toBe('Ada');
    expect(await stripe.customers.del(made.id)).toMatchObject({ id: made.id, deleted: true });
  });

  it('charges once per idempotency key: a repeat gets the first answer, not a second charge', async () => {
    const stripe = await start();
    const first = await stripe.paymentIntents.create(VISA, { idempotencyKey: 'order-1001' });
    expect(first).toMatchObject({ status: 'succeeded', amount_received: 2500 });
    const again = await stripe.paymentIntents.create(VISA, { idempotencyKey: 'order-1001' });
    expect(again.id).toBe(first.id);
    expect(await stats()).toMatchObject({ paymentIntents: 1, charges: { succeeded: 1 } });
    // The same key with another amount is Stripe's idempotency_error: final, never retried.
    const other = await rejection(
      stripe.paymentIntents.create({ ...VISA, amount: 9900 }, { idempotencyKey: 'order-1001' }),
    );
    expect(other).toMatchObject({ status: 400, classification: 'permanent' });
    expect(other.data).toMatchObject({ upstream: { type: 'idempotency_error' } });
    expect((await stats()).paymentIntents).toBe(1);
  });

  it('refuses a money-moving write without a key, before sending anything', async () => {
    const stripe = await start();
    const before = (await stats()).counters.requests ?? 0;
    const error = await rejection(
      stripe.paymentIntents.create(VISA, undefined as unknown as { idempotencyKey: string }),
    );
    expect(error).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    expect(error.message).toMatch(/idempotencyKey/);
    await expect(stripe.refunds.create({ payment_intent: 'pi_x' }, { idempotencyKey: '' })).rejects.toThrow(
      /idempotencyKey/,
    );
    expect((await stats()).counters.requests ?? 0).toBe(before);
  });

  it('reads a decline as a final card error with its codes, sent once', async () => {
    const stripe = await start();
    const error = await rejection(
      stripe.paymentIntents.create(
        { ...VISA, payment_method: 'pm_card_chargeDeclinedInsufficientFunds' },
        { idempotencyKey: 'order-1002' },
      ),
    );
    expect(error).toMatchObject({ status: 402, classification: 'permanent' });
    expect(error.data).toMatchObject({
      upstreamCode: 'card_declined',
      upstream: { type: 'card_error', declineCode: 'insufficient_funds' },
    });
    expect(error.message).toMatch(/insufficient funds|declined/i);
    expect((await stats()).charges).toMatchObject({ succeeded: 0, failed: 1 });
  });

  it('retries a 500 under the same key: the retry replays or runs once, one charge either way', async () => {
    const stripe = await start();
    await control('faults', { method: 'POST', path: '/v1/payment_intents', status: 500, times: 1 });
    const paid = await driveWith(
      setup.clock,
      fake,
      stripe.paymentIntents.create(VISA, { idempotencyKey: 'order-1003' }),
      10_000,
    );
    expect(paid.status).toBe('succeeded');
    expect(await stats()).toMatchObject({ paymentIntents: 1, charges: { succeeded: 1 } });
  });

  it('waits out 429s when the account allows fewer requests a second than configured', async () => {
    const stripe = await start({ rateLimit: { read: 2, write: 2 } }, { requestsPerSecond: 50 });
    const made = await driveWith(
      setup.clock,
      fake,
      Promise.all(
        Array.from({ length: 6 }, (_, i) => stripe.customers.create({ email: `c${i}@example.com` })),
      ),
      // Below the 80 s attempt timeout: only the waits for Stripe's next second pass.
      10_000,
    );
    expect(made).toHaveLength(6);
    expect((await stats()).customers).toBe(6);
    expect((await stats()).counters.rateLimited ?? (await stats()).counters['rate-limited']).toBeGreaterThan(
      0,
    );
  });

  it('refunds part then the rest under their own keys, and a refund repeated is not refunded twice', async () => {
    const stripe = await start();
    const paid = await stripe.paymentIntents.create(VISA, { idempotencyKey: 'order-1004' });
    const part = await stripe.refunds.create(
      { payment_intent: paid.id, amount: 1000 },
      { idempotencyKey: 'refund-1004-a' },
    );
    expect(
      await stripe.refunds.create(
        { payment_intent: paid.id, amount: 1000 },
        { idempotencyKey: 'refund-1004-a' },
      ),
    ).toMatchObject({ id: part.id });
    await stripe.refunds.create({ payment_intent: paid.id }, { idempotencyKey: 'refund-1004-b' });
    const charge = await stripe.charges.get(paid.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 2500, refunded: true });
    const refunds = [];
    for await (const refund of stripe.refunds.list()) refunds.push(refund.amount);
    expect(refunds.sort()).toEqual([1000, 1500]);
    const events = [];
    for await (const event of stripe.events.list({ type: 'charge.refunded' })) events.push(event.type);
    expect(events.length).toBeGreaterThan(0);
  });
});

describe('Stripe definition', () => {
  it('encodes parameters with brackets, nulls as unset, in the caller’s order', () => {
    expect(
      formEncode({
        amount: 100,
        metadata: { order: '42', 'a b': 'x&y' },
        expand: ['customer'],
        description: null,
        skip: undefined,
      }),
    ).toBe('amount=100&metadata[order]=42&metadata[a%20b]=x%26y&expand[0]=customer&description=');
    expect(() => formEncode({ amount: Number.NaN })).toThrow(/amount must be a finite number/);
  });

  it('counts reads and writes apart at 25 a second in a sandbox, 100 live, and names a bad setting', () => {
    const sandbox = stripeRateLimits(stripeSettingsSchema.parse({}));
    expect(sandbox.map((l) => [l.key, 'limit' in l ? l.limit : undefined])).toEqual([
      ['reads', 25],
      ['writes', 25],
    ]);
    expect(stripeRateLimits(stripeSettingsSchema.parse({ mode: 'live' }))[1]).toMatchObject({
      limit: 100,
      only: { method: ['POST', 'DELETE'] },
    });
    const bad = stripeSettingsSchema.safeParse({ mode: 'prod', account: 'acc_1' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['mode', 'must be "live" or "test"'],
      ['account', 'must be a connected account id such as "acct_1Nv…"'],
    ]);
  });
});
