import type { FastifyInstance } from 'fastify';
import type { StripeFakeContext } from '../context.js';
import { endpoint, expand, type StripeCall } from '../endpoint.js';
import { stripeId } from '../ids.js';
import { LIST_PARAMS, listOf } from '../list.js';
import type { PaymentIntent } from '../model.js';
import type { ParamReader } from '../param-reader.js';
import { confirmIntent, unexpectedState } from '../payments.js';
import { noSuch, paramError } from '../stripe-errors.js';
import { TEST_CARDS } from '../test-cards.js';

const WRITABLE = [
  'amount',
  'currency',
  'customer',
  'description',
  'metadata',
  'payment_method',
  'receipt_email',
] as const;
const CREATE = [
  ...WRITABLE,
  'capture_method',
  'confirm',
  'confirmation_method',
  'payment_method_types',
  'automatic_payment_methods',
  'off_session',
  'return_url',
  'statement_descriptor',
] as const;
const CAPTURE_METHODS = ['automatic', 'automatic_async', 'manual'] as const;
const CANCEL_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;
/** Stripe's minimum charge in the main currencies (50 of the smallest unit). */
const MINIMUM = 50;

/**
 * Payment intents: create (optionally confirming at once), retrieve, update while unconfirmed,
 * confirm, capture (manual capture, possibly less than authorised), cancel, list. Transitions follow
 * Stripe's status machine; anything else is 400 `payment_intent_unexpected_state`.
 */
export function paymentIntentRoutes(app: FastifyInstance, ctx: StripeFakeContext): void {
  const find = (id: string) => {
    const intent = ctx.state.paymentIntents.get(id);
    if (!intent) throw noSuch('payment_intent', id);
    return intent;
  };

  endpoint(app, ctx, 'POST', '/v1/payment_intents', (call) => {
    const r = call.reader(CREATE);
    const amount = amountOf(r, true)!;
    const currency = currencyOf(r, true)!;
    const customer = customerOf(ctx, r);
    const paymentMethod = paymentMethodOf(r);
    const types = call.params.payment_method_types;
    if (types !== undefined && (!Array.isArray(types) || !types.every((t) => t === 'card'))) {
      throw paramError('The fake supports payment_method_types: ["card"] only.', 'payment_method_types');
    }
    const created = Math.floor(call.now / 1000);
    const id = stripeId('pi');
    const intent = ctx.state.add<PaymentIntent>(ctx.state.paymentIntents, {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: r.oneOf('capture_method', CAPTURE_METHODS) ?? 'automatic_async',
      client_secret: `${id}_secret_${stripeId('x').slice(2)}`,
      confirmation_method: r.oneOf('confirmation_method', ['automatic', 'manual'] as const) ?? 'automatic',
      created,
      currency,
      customer,
      description: r.string('description') ?? null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: r.metadata(),
      next_action: null,
      payment_method: paymentMethod ?? null,
      payment_method_types: ['card'],
      receipt_email: r.string('receipt_email') ?? null,
      status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
    });
    const confirm = r.boolean('confirm') ?? false;
    ctx.state.emit('payment_intent.created', intent, call.now, call.origin);
    if (confirm) {
      if (!intent.payment_method) throw missingPaymentMethod(intent);
      confirmIntent(ctx, intent, call);
    }
    return expand(ctx, intent, r.expand());
  });

  endpoint(app, ctx, 'GET', '/v1/payment_intents/:id', (call) => {
    const r = call.reader(['client_secret']);
    return expand(ctx, find(call.path('id')), r.expand());
  });

  endpoint(app, ctx, 'POST', '/v1/payment_intents/:id', (call) => {
    const intent = find(call.path('id'));
    const r = call.reader([...WRITABLE, 'capture_method']);
    if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)) {
      throw unexpectedState(intent, 'update');
    }
    intent.amount = amountOf(r, false) ?? intent.amount;
    intent.currency = currencyOf(r, false) ?? intent.currency;
    if (r.has('customer')) intent.customer = customerOf(ctx, r);
    const description = r.nullableString('description');
    if (description !== undefined) intent.description = description;
    const receipt = r.nullableString('receipt_email');
    if (receipt !== undefined) intent.receipt_email = receipt;
    intent.capture_method = r.oneOf('capture_method', CAPTURE_METHODS) ?? intent.capture_method;
    const pm = paymentMethodOf(r);
    if (pm) {
      intent.payment_method = pm;
      intent.status = 'requires_confirmation';
    }
    intent.metadata = r.metadata(intent.metadata);
    return expand(ctx, intent, r.expand());
  });

  endpoint(app, ctx, 'POST', '/v1/payment_intents/:id/confirm', (call: StripeCall) => {
    const intent = find(call.path('id'));
    const r = call.reader(['payment_method', 'return_url', 'off_session', 'receipt_email']);
    if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)) {
      throw unexpectedState(intent, 'confirm');
    }
    const pm = paymentMethodOf(r);
    if (pm) intent.payment_method = pm;
    if (!intent.payment_method) throw missingPaymentMethod(intent);
    confirmIntent(ctx, intent, call);
    return expand(ctx, intent, r.expand());
  });

  endpoint(app, ctx, 'POST', '/v1/payment_intents/:id/capture', (call) => {
    const intent = find(call.path('id'));
    const r = call.reader(['amount_to_capture', 'metadata', 'final_capture']);
    if (intent.status !== 'requires_capture') throw unexpectedState(intent, 'capture');
    const amount = r.integer('amount_to_capture', { min: 1 }) ?? intent.amount_capturable;
    if (amount > intent.amount_capturable) {
      throw paramError(
        `The amount to capture (${amount}) must be less than or equal to the amount capturable (${intent.amount_capturable}).`,
        'amount_to_capture',
        'amount_too_large',
      );
    }
    const charge = ctx.state.charges.get(intent.latest_charge!)!;
    charge.captured = true;
    charge.amount_captured = amount;
    // The part not captured is released: Stripe shows it as refunded on the charge.
    charge.amount_refunded = charge.amount - amount;
    intent.amount_received = amount;
    intent.amount_capturable = 0;
    intent.status = 'succeeded';
    intent.metadata = r.metadata(intent.metadata);
    ctx.kit.count('charges:captured');
    ctx.state.emit('charge.captured', charge, call.now, call.origin);
    ctx.state.emit('payment_intent.succeeded', intent, call.now, call.origin);
    return expand(ctx, intent, r.expand());
  });

  endpoint(app, ctx, 'POST', '/v1/payment_intents/:id/cancel', (call) => {
    const intent = find(call.path('id'));
    const r = call.reader(['cancellation_reason']);
    if (intent.status === 'succeeded' || intent.status === 'canceled')
      throw unexpectedState(intent, 'cancel');
    const held =
      intent.status === 'requires_capture' ? ctx.state.charges.get(intent.latest_charge!) : undefined;
    if (held) {
      held.amount_refunded = held.amount;
      held.refunded = true;
    }
    intent.status = 'canceled';
    intent.amount_capturable = 0;
    intent.canceled_at = Math.floor(call.now / 1000);
    intent.cancellation_reason = r.oneOf('cancellation_reason', CANCEL_REASONS) ?? null;
    ctx.state.emit('payment_intent.canceled', intent, call.now, call.origin);
    return expand(ctx, intent, r.expand());
  });

  endpoint(app, ctx, 'GET', '/v1/payment_intents', (call) => {
    const r = call.reader([...LIST_PARAMS, 'customer']);
    const customer = r.string('customer');
    const all = ctx.state
      .newestFirst(ctx.state.paymentIntents)
      .filter((p) => customer === undefined || p.customer === customer);
    return expand(ctx, listOf(all, r, '/v1/payment_intents', 'payment_intent'), r.expand());
  });
}

function amountOf(r: ParamReader, required: boolean): number | undefined {
  const amount = r.integer('amount', { required, min: 1, max: 99_999_999 });
  if (amount !== undefined && amount < MINIMUM) {
    throw paramError('Amount must be at least $0.50 usd', 'amount', 'amount_too_small');
  }
  return amount;
}

function currencyOf(r: ParamReader, required: boolean): string | undefined {
  const currency = required ? r.string('currency', true) : r.string('currency');
  if (currency !== undefined && !/^[a-z]{3}$/.test(currency)) {
    throw paramError(
      `Invalid currency: ${currency}. Stripe currently supports these currencies: usd, eur, gbp, …`,
      'currency',
    );
  }
  return currency;
}

function customerOf(ctx: StripeFakeContext, r: ParamReader): string | null {
  const customer = r.nullableString('customer');
  if (customer === null || customer === undefined) return null;
  if (!ctx.state.customers.has(customer)) throw noSuch('customer', customer, 'customer');
  return customer;
}

function paymentMethodOf(r: ParamReader): string | undefined {
  const pm = r.string('payment_method');
  if (pm !== undefined && !(pm in TEST_CARDS)) throw noSuch('PaymentMethod', pm, 'payment_method');
  return pm;
}

function missingPaymentMethod(intent: PaymentIntent) {
  return paramError(
    "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with " +
      `${intent.customer ?? 'a customer'}, specify a payment method attached to this customer along with the customer ID.`,
    'payment_method',
    'payment_intent_unexpected_state',
  );
}
