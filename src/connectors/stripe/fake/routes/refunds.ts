import type { FastifyInstance } from 'fastify';
import type { StripeFakeContext } from '../context.js';
import { endpoint, expand } from '../endpoint.js';
import { stripeId } from '../ids.js';
import { LIST_PARAMS, listOf } from '../list.js';
import type { Charge, Refund } from '../model.js';
import { noSuch, paramError, StripeFakeError } from '../stripe-errors.js';

const REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

/**
 * Refunds of a captured charge, named by `charge` or `payment_intent`: the whole unrefunded amount by
 * default, never more (`amount_too_large`), never twice in full (`charge_already_refunded`). Charges can
 * be read and listed too — how a test counts what was really charged.
 */
export function refundRoutes(app: FastifyInstance, ctx: StripeFakeContext): void {
  const refunded = (charge: Charge) =>
    [...ctx.state.refunds.values()]
      .filter((r) => r.charge === charge.id && r.status === 'succeeded')
      .reduce((n, r) => n + r.amount, 0);

  endpoint(app, ctx, 'POST', '/v1/refunds', (call) => {
    const r = call.reader(['charge', 'payment_intent', 'amount', 'reason', 'metadata']);
    const chargeId = r.string('charge');
    const intentId = r.string('payment_intent');
    if (!chargeId && !intentId)
      throw paramError(
        'One of the following params should be provided for this request: payment_intent or charge.',
        'charge',
      );
    let charge: Charge | undefined;
    if (chargeId) {
      charge = ctx.state.charges.get(chargeId);
      if (!charge) throw noSuch('charge', chargeId, 'charge');
    } else {
      const intent = ctx.state.paymentIntents.get(intentId!);
      if (!intent) throw noSuch('payment_intent', intentId!, 'payment_intent');
      charge = intent.latest_charge ? ctx.state.charges.get(intent.latest_charge) : undefined;
      if (charge?.status !== 'succeeded' || !charge.captured) {
        throw new StripeFakeError(
          400,
          'invalid_request_error',
          `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
          {
            param: 'payment_intent',
          },
        );
      }
    }
    const refundable = charge.amount_captured - refunded(charge);
    if (refundable <= 0) {
      throw new StripeFakeError(
        400,
        'invalid_request_error',
        `Charge ${charge.id} has already been refunded.`,
        {
          code: 'charge_already_refunded',
          charge: charge.id,
        },
      );
    }
    const amount = r.integer('amount', { min: 1 }) ?? refundable;
    if (amount > refundable) {
      throw new StripeFakeError(
        400,
        'invalid_request_error',
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable})`,
        { code: 'amount_too_large', param: 'amount' },
      );
    }
    const refund = ctx.state.add<Refund>(ctx.state.refunds, {
      id: stripeId('re'),
      object: 'refund',
      amount,
      charge: charge.id,
      created: Math.floor(call.now / 1000),
      currency: charge.currency,
      metadata: r.metadata(),
      payment_intent: charge.payment_intent,
      reason: r.oneOf('reason', REASONS) ?? null,
      status: 'succeeded',
    });
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded >= charge.amount;
    ctx.kit.count('refunds');
    ctx.state.emit('refund.created', refund, call.now, call.origin);
    ctx.state.emit('charge.refunded', charge, call.now, call.origin);
    return expand(ctx, refund, r.expand());
  });

  endpoint(app, ctx, 'GET', '/v1/refunds/:id', (call) => {
    const r = call.reader([]);
    const refund = ctx.state.refunds.get(call.path('id'));
    if (!refund) throw noSuch('refund', call.path('id'));
    return expand(ctx, refund, r.expand());
  });

  endpoint(app, ctx, 'POST', '/v1/refunds/:id', (call) => {
    const refund = ctx.state.refunds.get(call.path('id'));
    if (!refund) throw noSuch('refund', call.path('id'));
    const r = call.reader(['metadata']);
    refund.metadata = r.metadata(refund.metadata);
    return expand(ctx, refund, r.expand());
  });

  endpoint(app, ctx, 'GET', '/v1/refunds', (call) => {
    const r = call.reader([...LIST_PARAMS, 'charge', 'payment_intent']);
    const charge = r.string('charge');
    const intent = r.string('payment_intent');
    const all = ctx.state
      .newestFirst(ctx.state.refunds)
      .filter(
        (x) =>
          (charge === undefined || x.charge === charge) &&
          (intent === undefined || x.payment_intent === intent),
      );
    return expand(ctx, listOf(all, r, '/v1/refunds', 'refund'), r.expand());
  });

  endpoint(app, ctx, 'GET', '/v1/charges/:id', (call) => {
    const r = call.reader([]);
    const charge = ctx.state.charges.get(call.path('id'));
    if (!charge) throw noSuch('charge', call.path('id'));
    return expand(ctx, charge, r.expand());
  });

  endpoint(app, ctx, 'GET', '/v1/charges', (call) => {
    const r = call.reader([...LIST_PARAMS, 'customer', 'payment_intent']);
    const customer = r.string('customer');
    const intent = r.string('payment_intent');
    const all = ctx.state
      .newestFirst(ctx.state.charges)
      .filter(
        (x) =>
          (customer === undefined || x.customer === customer) &&
          (intent === undefined || x.payment_intent === intent),
      );
    return expand(ctx, listOf(all, r, '/v1/charges', 'charge'), r.expand());
  });
}
