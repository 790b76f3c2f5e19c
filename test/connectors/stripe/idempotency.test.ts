import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type RunningStripeFake,
  type StripeFakeOptions,
  startStripeFake,
} from '../../../src/connectors/stripe/fake/index.js';
import { HookReceiver } from '../hook-receiver.js';

const KEY = 'sk_test_idempotency0001';
let fake: RunningStripeFake | undefined;
let receiver: HookReceiver | undefined;
afterEach(async () => {
  await fake?.close();
  await receiver?.stop();
  fake = undefined;
  receiver = undefined;
});

async function start(options: StripeFakeOptions = {}) {
  fake = await startStripeFake(options);
  return fake;
}
const sdk = (config: Stripe.StripeConfig = {}) => new Stripe(KEY, { ...fake!.sdkOptions, ...config });
const stats = async () =>
  (await (await fetch(`${fake!.url}/_fake/stats`)).json()) as {
    counters: Record<string, number>;
    paymentIntents: number;
    charges: { succeeded: number; failed: number };
  };
/** A raw form POST, to see Stripe's answers without the SDK in between. */
const post = (path: string, form: string, headers: Record<string, string> = {}) =>
  fetch(`${fake!.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body: form,
  });

describe('Stripe fake: idempotency keys', () => {
  it('replays the first answer to the same key, marked idempotent-replayed, with one charge made', async () => {
    await start();
    const stripe = sdk();
    const params = { amount: 2500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: 'order-1' });
    const again = await stripe.paymentIntents.create(params, { idempotencyKey: 'order-1' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(again.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect(await stats()).toMatchObject({ paymentIntents: 1, charges: { succeeded: 1 } });
  });

  it('replays an error too: a declined card stays declined under its key, without a second attempt', async () => {
    await start();
    const stripe = sdk();
    const params = { amount: 2500, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true };
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: 'order-2' }).catch((e) => e);
    const again = await stripe.paymentIntents.create(params, { idempotencyKey: 'order-2' }).catch((e) => e);
    expect(first).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(again).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(again.raw.charge).toBe(first.raw.charge);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await stats()).charges.failed).toBe(1);
  });

  it('refuses the same key with other parameters, or on another endpoint, with idempotency_error', async () => {
    await start();
    const stripe = sdk();
    await stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'k1' });
    const other = await stripe.customers
      .create({ email: 'b@example.com' }, { idempotencyKey: 'k1' })
      .catch((e) => e);
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(other).toMatchObject({ statusCode: 400 });
    expect(other.message).toMatch(/same parameters they were first used with/);
    const elsewhere = await stripe.paymentIntents
      .create({ amount: 100, currency: 'usd' }, { idempotencyKey: 'k1' })
      .catch((e) => e);
    expect(elsewhere).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(elsewhere.message).toMatch(/same endpoint/);
  });

  it('does not save a parameter refusal: the key can be used again once the parameters are right', async () => {
    await start();
    const bad = await post('/v1/customers', 'colour=blue', { 'idempotency-key': 'k2' });
    expect(bad.status).toBe(400);
    const good = await post('/v1/customers', 'email=c%40example.com', { 'idempotency-key': 'k2' });
    expect(good.status).toBe(200);
  });

  it('answers 409 idempotency_key_in_use while the first request with the key is still running', async () => {
    await start({ processingMs: 300 });
    const form = 'amount=1000&currency=usd&payment_method=pm_card_visa&confirm=true';
    const [a, b] = await Promise.all([
      post('/v1/payment_intents', form, { 'idempotency-key': 'busy' }),
      new Promise((r) => setTimeout(r, 50)).then(() =>
        post('/v1/payment_intents', form, { 'idempotency-key': 'busy' }),
      ),
    ]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(409);
    expect(b.headers.get('stripe-should-retry')).toBe('true');
    expect(await b.json()).toMatchObject({
      error: { type: 'idempotency_error', code: 'idempotency_key_in_use' },
    });
  });

  it('lets the SDK’s own retry of a 409 end with the first answer', async () => {
    await start({ processingMs: 300 });
    const stripe = sdk();
    const params = { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };
    const [a, b] = await Promise.all([
      stripe.paymentIntents.create(params, { idempotencyKey: 'same' }),
      new Promise((r) => setTimeout(r, 50)).then(() =>
        stripe.paymentIntents.create(params, { idempotencyKey: 'same' }),
      ),
    ]);
    expect(b.id).toBe(a.id);
    expect(await stats()).toMatchObject({ paymentIntents: 1, charges: { succeeded: 1 } });
  });

  it('keeps the SDK’s generated key across its retries when an answer is lost: one charge', async () => {
    await start();
    // The fake creates and charges the intent, then holds the answer past the SDK's timeout.
    await fetch(`${fake!.url}/_fake/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', path: '/v1/payment_intents', holdAnswerMs: 3000 }),
    });
    const stripe = sdk({ timeout: 400, maxNetworkRetries: 2 });
    const intent = await stripe.paymentIntents.create({
      amount: 4200,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    expect(intent.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(intent.lastResponse.idempotencyKey).toMatch(/^stripe-node-retry-/);
    expect(await stats()).toMatchObject({ paymentIntents: 1, charges: { succeeded: 1 } });
  });

  it('ignores the key on GET and DELETE', async () => {
    await start();
    const created = (await (await post('/v1/customers', 'email=d%40example.com')).json()) as { id: string };
    const read = await fetch(`${fake!.url}/v1/customers/${created.id}`, {
      headers: { authorization: `Bearer ${KEY}`, 'idempotency-key': 'k3' },
    });
    expect(read.headers.get('idempotent-replayed')).toBeNull();
    // The same key is still free for a POST.
    expect((await post('/v1/customers', 'email=e%40example.com', { 'idempotency-key': 'k3' })).status).toBe(
      200,
    );
  });

  it('refuses keys over 255 characters and forgets keys after 24 hours on the fake’s clock', async () => {
    await start();
    expect(
      (await post('/v1/customers', 'email=f%40example.com', { 'idempotency-key': 'x'.repeat(256) })).status,
    ).toBe(400);
    expect((await post('/v1/customers', 'email=f%40example.com', { 'idempotency-key': 'old' })).status).toBe(
      200,
    );
    fake!.clock.advance(24 * 3_600_000);
    const later = await post('/v1/customers', 'email=g%40example.com', { 'idempotency-key': 'old' });
    expect(later.status).toBe(200);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('Stripe fake: limits, ids and webhooks', () => {
  it('answers past the per-second limit with 429, which the SDK raises as a rate-limit error and does not retry', async () => {
    await start({ rateLimit: { write: 2 } });
    // Counted per second of the fake's clock: frozen, so a slow run cannot cross into the next second.
    fake!.clock.freeze();
    const stripe = sdk();
    await stripe.customers.create({});
    await stripe.customers.create({});
    const error = await stripe.customers.create({}).catch((e) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error).toMatchObject({ statusCode: 429, code: 'rate_limit' });
    expect((await stats()).counters['rate-limited']).toBe(1);
    // Reads have their own budget.
    expect((await stripe.customers.list()).data).toHaveLength(2);
    fake!.clock.advance(1000);
    await expect(stripe.customers.create({})).resolves.toMatchObject({ object: 'customer' });
  });

  it('signs events to registered endpoints over the pretty-printed body, and retries on the fake’s clock', async () => {
    await start({ webhookRetryDelaysMs: [60_000] });
    receiver = await new HookReceiver().start();
    let fail = true;
    receiver.answer = (_hit, res) => res.writeHead(fail ? 500 : 200).end();
    const stripe = sdk();
    const endpoint = await stripe.webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['payment_intent.succeeded'],
    });
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect((await stripe.webhookEndpoints.retrieve(endpoint.id)).secret).toBeUndefined();
    await stripe.paymentIntents.create({
      amount: 700,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    await fake!.webhooksSettled();
    expect(receiver.hits).toHaveLength(1);
    const [hit] = receiver.hits;
    expect(hit!.body).toContain('\n  "id": "evt_');
    const header = String(hit!.headers['stripe-signature']);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v0=[0-9a-f]{64}$/);
    // The SDK's own verifier accepts the signature (the v0 entry is ignored).
    const event = stripe.webhooks.constructEvent(
      hit!.body,
      header,
      endpoint.secret!,
      300,
      undefined,
      Math.floor(fake!.clock.now() / 1000),
    );
    expect(event.type).toBe('payment_intent.succeeded');

    fail = false;
    fake!.clock.advance(60_000);
    await receiver.waitFor(2);
    await fake!.webhooksSettled();
    const retried = receiver.hits[1]!;
    expect(JSON.parse(retried.body).id).toBe(event.id);
    expect(String(retried.headers['stripe-signature'])).not.toBe(header);
  });
});
