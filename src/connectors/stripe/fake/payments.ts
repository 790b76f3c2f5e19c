import type { StripeFakeContext } from './context.js';
import type { StripeCall } from './endpoint.js';
import { stripeId } from './ids.js';
import type { Charge, PaymentIntent } from './model.js';
import { StripeFakeError } from './stripe-errors.js';
import { TEST_CARDS } from './test-cards.js';

/**
 * Confirms a payment intent with its payment method, as Stripe's test cards behave: a success makes
 * a succeeded charge (captured now, or held for capture with `capture_method: manual`); a decline
 * makes a failed charge, puts the intent back to `requires_payment_method` with `last_payment_error`,
 * and answers 402 `card_error` — an answer the idempotency layer saves like any other.
 */
export function confirmIntent(
  ctx: StripeFakeContext,
  intent: PaymentIntent,
  call: StripeCall,
): PaymentIntent {
  const pm = intent.payment_method!;
  const outcome = TEST_CARDS[pm] ?? { kind: 'success' as const };
  if (outcome.kind === 'authentication_required') {
    intent.status = 'requires_action';
    intent.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect' } };
    ctx.state.emit('payment_intent.requires_action', intent, call.now, call.origin);
    return intent;
  }
  const manual = intent.capture_method === 'manual';
  const declined = outcome.kind === 'decline';
  const charge = ctx.state.add<Charge>(ctx.state.charges, {
    id: stripeId('ch'),
    object: 'charge',
    amount: intent.amount,
    amount_captured: declined || manual ? 0 : intent.amount,
    amount_refunded: 0,
    captured: !declined && !manual,
    created: Math.floor(call.now / 1000),
    currency: intent.currency,
    customer: intent.customer,
    failure_code: declined ? outcome.code : null,
    failure_message: declined ? outcome.message : null,
    livemode: false,
    metadata: {},
    outcome: declined
      ? {
          type: 'issuer_declined',
          network_status: 'declined_by_network',
          reason: outcome.declineCode,
          seller_message: 'The bank did not return any further details with this decline.',
        }
      : {
          type: 'authorized',
          network_status: 'approved_by_network',
          reason: null,
          seller_message: 'Payment complete.',
        },
    paid: !declined,
    payment_intent: intent.id,
    payment_method: pm,
    refunded: false,
    status: declined ? 'failed' : 'succeeded',
  });
  intent.latest_charge = charge.id;
  if (declined) {
    const error = {
      charge: charge.id,
      code: outcome.code,
      decline_code: outcome.declineCode,
      message: outcome.message,
      payment_method: { id: pm, object: 'payment_method', type: 'card' },
      type: 'card_error',
    };
    intent.status = 'requires_payment_method';
    intent.last_payment_error = error;
    intent.payment_method = null;
    ctx.state.emit('charge.failed', charge, call.now, call.origin);
    ctx.state.emit('payment_intent.payment_failed', intent, call.now, call.origin);
    throw new StripeFakeError(402, 'card_error', outcome.message, {
      charge: charge.id,
      code: outcome.code,
      decline_code: outcome.declineCode,
      payment_intent: structuredClone(intent),
      payment_method: error.payment_method,
    });
  }
  intent.last_payment_error = null;
  intent.next_action = null;
  ctx.kit.count(manual ? 'charges:authorized' : 'charges:captured');
  ctx.state.emit('charge.succeeded', charge, call.now, call.origin);
  if (manual) {
    intent.status = 'requires_capture';
    intent.amount_capturable = intent.amount;
    ctx.state.emit('payment_intent.amount_capturable_updated', intent, call.now, call.origin);
  } else {
    intent.status = 'succeeded';
    intent.amount_received = intent.amount;
    ctx.state.emit('payment_intent.succeeded', intent, call.now, call.origin);
  }
  return intent;
}

/** 400 `payment_intent_unexpected_state`, naming what was tried and the status that forbids it. */
export function unexpectedState(intent: PaymentIntent, action: string): StripeFakeError {
  return new StripeFakeError(
    400,
    'invalid_request_error',
    `You cannot ${action} this PaymentIntent because it has a status of ${intent.status}.`,
    { code: 'payment_intent_unexpected_state', payment_intent: structuredClone(intent) },
  );
}
