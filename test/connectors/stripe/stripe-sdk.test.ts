import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type RunningStripeFake,
  type StripeFakeOptions,
  startStripeFake,
} from '../../../src/connectors/stripe/fake/index.js';

let fake: RunningStripeFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** The official SDK, unmodified, pointed at the fake by host, port and protocol. */
async function sdk(options: StripeFakeOptions = {}, config: Stripe.StripeConfig = {}) {
  fake = await startStripeFake(options);
  return new Stripe('sk_test_4eC39HqLyjWDarjtT1zdp7dc', { ...fake.sdkOptions, ...config });
}
const stats = async () =>
  (await (await fetch(`${fake!.url}/_fake/stats`)).json()) as {
    counters: Record<string, number>;
    paymentIntents: number;
    charges: { succeeded: number; failed: number; capturedAmount: number };
  };

describe('stripe SDK against the Stripe fake: objects', () => {
  it('creates, reads, updates and deletes customers, with bracketed metadata set and unset', async () => {
    const stripe = await sdk();
    const customer = await stripe.customers.create({
      email: 'ada@example.com',
      name: 'Ada',
      metadata: { plan: 'pro', team: 'a' },
    });
    expect(customer.id).toMatch(/^cus_/);
    expect(customer.lastResponse.requestId).toMatch(/^req_/);
    const updated = await stripe.customers.update(customer.id, { metadata: { team: '' }, name: 'Ada L.' });
    expect(updated).toMatchObject({ name: 'Ada L.', metadata: { plan: 'pro' } });
    expect(updated.metadata).not.toHaveProperty('team');
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
      email: 'ada@example.com',
    });
    expect(await stripe.customers.del(customer.id)).toMatchObject({ id: customer.id, deleted: true });
    expect(await stripe.customers.retrieve(customer.id)).toMatchObject({ id: customer.id, deleted: true });
  });

  it('lists newest first, paging with starting_after and ending_before (exclusive), autoPagingToArray included', async () => {
    const stripe = await sdk();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await stripe.customers.create({ email: `c${i}@example.com` })).id);
    const newest = [...ids].reverse();
    const first = await stripe.customers.list({ limit: 3 });
    expect(first).toMatchObject({ object: 'list', url: '/v1/customers', has_more: true });
    expect(first.data.map((c) => c.id)).toEqual(newest.slice(0, 3));
    const second = await stripe.customers.list({ limit: 3, starting_after: first.data[2]!.id });
    expect(second.data.map((c) => c.id)).toEqual(newest.slice(3, 6));
    const back = await stripe.customers.list({ limit: 2, ending_before: newest[3] });
    expect(back.data.map((c) => c.id)).toEqual(newest.slice(1, 3));
    expect(back.has_more).toBe(true);
    const all = await stripe.customers.list({ limit: 2 }).autoPagingToArray({ limit: 100 });
    expect(all.map((c) => c.id)).toEqual(newest);
    const both = await stripe.customers
      .list({ starting_after: ids[0], ending_before: ids[1] })
      .catch((e) => e);
    expect(both).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(both.message).toMatch(/only specify one of these parameters: ending_before, starting_after/);
  });

  it('charges a test card at once, or authorises and captures part of it', async () => {
    const stripe = await sdk();
    const paid = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    expect(paid).toMatchObject({ status: 'succeeded', amount_received: 2000 });
    const charge = await stripe.charges.retrieve(paid.latest_charge as string);
    expect(charge).toMatchObject({
      status: 'succeeded',
      captured: true,
      amount_captured: 2000,
      payment_intent: paid.id,
    });

    const held = await stripe.paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
    });
    expect(held.status).toBe('requires_confirmation');
    const confirmed = await stripe.paymentIntents.confirm(held.id);
    expect(confirmed).toMatchObject({ status: 'requires_capture', amount_capturable: 5000 });
    const captured = await stripe.paymentIntents.capture(held.id, { amount_to_capture: 3000 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 3000, amount_capturable: 0 });
    const again = await stripe.paymentIntents.capture(held.id).catch((e) => e);
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again.code).toBe('payment_intent_unexpected_state');

    const expanded = await stripe.paymentIntents.retrieve(paid.id, { expand: ['latest_charge'] });
    expect((expanded.latest_charge as Stripe.Charge).object).toBe('charge');
  });

  it('answers a declining test card with 402 card_error and leaves the intent waiting for a payment method', async () => {
    const stripe = await sdk();
    const error = await stripe.paymentIntents
      .create({
        amount: 1500,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
        confirm: true,
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({
      statusCode: 402,
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      type: 'StripeCardError',
    });
    expect(error.raw.type).toBe('card_error');
    expect(error.requestId).toMatch(/^req_/);
    const intent = error.raw.payment_intent as Stripe.PaymentIntent;
    expect(intent.status).toBe('requires_payment_method');
    expect(intent.last_payment_error?.decline_code).toBe('insufficient_funds');
    expect((await stats()).charges).toMatchObject({ succeeded: 0, failed: 1 });
  });

  it('cancels an authorisation, and refunds in part then in full, never more', async () => {
    const stripe = await sdk();
    const held = await stripe.paymentIntents.create({
      amount: 900,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: true,
    });
    expect(await stripe.paymentIntents.cancel(held.id, { cancellation_reason: 'abandoned' })).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'abandoned',
    });

    const paid = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    expect(await stripe.refunds.create({ payment_intent: paid.id, amount: 400 })).toMatchObject({
      amount: 400,
      status: 'succeeded',
    });
    const tooMuch = await stripe.refunds.create({ payment_intent: paid.id, amount: 700 }).catch((e) => e);
    expect(tooMuch.code).toBe('amount_too_large');
    expect(await stripe.refunds.create({ payment_intent: paid.id })).toMatchObject({ amount: 600 });
    const twice = await stripe.refunds.create({ charge: paid.latest_charge as string }).catch((e) => e);
    expect(twice.code).toBe('charge_already_refunded');
    expect(await stripe.charges.retrieve(paid.latest_charge as string)).toMatchObject({
      refunded: true,
      amount_refunded: 1000,
    });
    expect((await stripe.refunds.list({ payment_intent: paid.id })).data).toHaveLength(2);
  });

  it('refuses what Stripe refuses, naming the parameter', async () => {
    const stripe = await sdk();
    const missing = await stripe.paymentIntents
      .create({ currency: 'usd' } as Stripe.PaymentIntentCreateParams)
      .catch((e) => e);
    expect(missing).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'amount' });
    const unknown = await stripe.customers
      .create({ colour: 'blue' } as Stripe.CustomerCreateParams)
      .catch((e) => e);
    expect(unknown).toMatchObject({ code: 'parameter_unknown', param: 'colour' });
    const small = await stripe.paymentIntents.create({ amount: 20, currency: 'usd' }).catch((e) => e);
    expect(small.code).toBe('amount_too_small');
    const none = await stripe.customers.retrieve('cus_nope').catch((e) => e);
    expect(none).toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect(none.message).toBe("No such customer: 'cus_nope'");
    const badKey = await new Stripe('sk_live_abcdefghijkl', fake!.sdkOptions).customers
      .list()
      .catch((e) => e);
    expect(badKey).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });
});
