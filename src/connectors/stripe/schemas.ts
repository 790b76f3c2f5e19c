import { z } from 'zod';

/**
 * The fields of Stripe's objects that Patchbay's calls read, checked on every answer; the rest of
 * each object passes through untouched (`loose`). https://docs.stripe.com/api
 */
const metadata = z.record(z.string(), z.string());

export const customerSchema = z
  .object({
    id: z.string().startsWith('cus_'),
    object: z.literal('customer'),
    created: z.number(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    metadata,
  })
  .loose();

export const deletedSchema = z.object({ id: z.string(), deleted: z.literal(true) }).loose();

export const paymentIntentSchema = z
  .object({
    id: z.string().startsWith('pi_'),
    object: z.literal('payment_intent'),
    amount: z.number(),
    amount_received: z.number(),
    currency: z.string(),
    customer: z.union([z.string(), z.object({ id: z.string() }).loose()]).nullable(),
    status: z.enum([
      'requires_payment_method',
      'requires_confirmation',
      'requires_action',
      'processing',
      'requires_capture',
      'canceled',
      'succeeded',
    ]),
    latest_charge: z.union([z.string(), z.object({ id: z.string() }).loose()]).nullable(),
    last_payment_error: z.object({ code: z.string().optional() }).loose().nullable(),
    created: z.number(),
    metadata,
  })
  .loose();

export const chargeSchema = z
  .object({
    id: z.string().startsWith('ch_'),
    object: z.literal('charge'),
    amount: z.number(),
    amount_captured: z.number(),
    amount_refunded: z.number(),
    currency: z.string(),
    payment_intent: z.string().nullable(),
    refunded: z.boolean(),
    status: z.enum(['succeeded', 'pending', 'failed']),
    created: z.number(),
  })
  .loose();

export const refundSchema = z
  .object({
    id: z.string().startsWith('re_'),
    object: z.literal('refund'),
    amount: z.number(),
    charge: z.string().nullable(),
    payment_intent: z.string().nullable(),
    currency: z.string(),
    status: z.enum(['succeeded', 'pending', 'failed', 'canceled', 'requires_action']),
    created: z.number(),
    metadata,
  })
  .loose();

export const eventSchema = z
  .object({
    id: z.string().startsWith('evt_'),
    object: z.literal('event'),
    type: z.string(),
    created: z.number(),
    data: z.object({ object: z.record(z.string(), z.unknown()) }).loose(),
  })
  .loose();

export type StripeCustomer = z.output<typeof customerSchema>;
export type StripePaymentIntent = z.output<typeof paymentIntentSchema>;
export type StripeCharge = z.output<typeof chargeSchema>;
export type StripeRefund = z.output<typeof refundSchema>;
export type StripeEvent = z.output<typeof eventSchema>;
