import { randomUUID } from 'node:crypto';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { HttpClient } from '../../http/create-http-client.js';
import type { ResponseSchema } from '../../http/http-types.js';
import { paginate } from '../../http/paginate.js';
import { type FormValue, formEncode, formPairs } from './form.js';
import {
  chargeSchema,
  customerSchema,
  deletedSchema,
  eventSchema,
  paymentIntentSchema,
  refundSchema,
  type StripeCharge,
  type StripeCustomer,
  type StripeEvent,
  type StripePaymentIntent,
  type StripeRefund,
} from './schemas.js';

export type StripeParams = Readonly<Record<string, FormValue>>;

export interface StripeCallOptions {
  signal?: AbortSignal;
}

/** A write that may be repeated safely: without a key, one is made for the call (its own retries replay). */
export interface StripeWriteOptions extends StripeCallOptions {
  idempotencyKey?: string;
}

/**
 * A write that moves money: the caller names the key — an order id, a job id — so that a repeat after
 * a crash, in this process or another, is Stripe's replay of the first answer rather than a second charge.
 * Stripe keeps keys for at least 24 hours.
 */
export interface StripeKeyedWriteOptions extends StripeCallOptions {
  idempotencyKey: string;
}

export interface PaymentIntentInput extends Record<string, FormValue> {
  amount: number;
  currency: string;
  customer?: string;
  payment_method?: string;
  confirm?: boolean;
  capture_method?: 'automatic' | 'automatic_async' | 'manual';
  description?: string;
  receipt_email?: string;
  metadata?: Record<string, string>;
}

export interface RefundInput extends Record<string, FormValue> {
  payment_intent?: string;
  charge?: string;
  /** In the smallest unit; the whole remaining amount when absent. */
  amount?: number;
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer';
  metadata?: Record<string, string>;
}

/** List filters: `created` bounds, and any other parameter the endpoint takes. Pages are of 100. */
export type StripeListParams = StripeParams & {
  created?: { gt?: number; gte?: number; lt?: number; lte?: number };
};

/** Stripe's typed calls over a connection's client. Lists walk every page (`starting_after`), newest first. */
export interface StripeApi {
  readonly customers: {
    create(input: StripeParams, options?: StripeWriteOptions): Promise<StripeCustomer>;
    get(id: string, options?: StripeCallOptions): Promise<StripeCustomer>;
    update(id: string, change: StripeParams, options?: StripeWriteOptions): Promise<StripeCustomer>;
    del(id: string, options?: StripeCallOptions): Promise<{ id: string; deleted: true }>;
    list(params?: StripeListParams, options?: StripeCallOptions): AsyncIterable<StripeCustomer>;
  };
  readonly paymentIntents: {
    create(input: PaymentIntentInput, options: StripeKeyedWriteOptions): Promise<StripePaymentIntent>;
    get(id: string, options?: StripeCallOptions): Promise<StripePaymentIntent>;
    confirm(id: string, params: StripeParams, options: StripeKeyedWriteOptions): Promise<StripePaymentIntent>;
    capture(id: string, params: StripeParams, options: StripeKeyedWriteOptions): Promise<StripePaymentIntent>;
    cancel(id: string, params?: StripeParams, options?: StripeWriteOptions): Promise<StripePaymentIntent>;
    list(params?: StripeListParams, options?: StripeCallOptions): AsyncIterable<StripePaymentIntent>;
  };
  readonly refunds: {
    create(input: RefundInput, options: StripeKeyedWriteOptions): Promise<StripeRefund>;
    get(id: string, options?: StripeCallOptions): Promise<StripeRefund>;
    list(params?: StripeListParams, options?: StripeCallOptions): AsyncIterable<StripeRefund>;
  };
  readonly charges: {
    get(id: string, options?: StripeCallOptions): Promise<StripeCharge>;
    list(params?: StripeListParams, options?: StripeCallOptions): AsyncIterable<StripeCharge>;
  };
  readonly events: {
    /** Stripe keeps events for 30 days: the way to catch up on webhooks missed while down. */
    list(params?: StripeListParams, options?: StripeCallOptions): AsyncIterable<StripeEvent>;
  };
}

const ID = /^[A-Za-z0-9_]{1,255}$/;

/** Builds the typed calls; each builds its request, sends it and validates the answer. */
export function stripeApi(client: HttpClient): StripeApi {
  const send = async <T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: ResponseSchema<T>,
    params: StripeParams = {},
    options: StripeWriteOptions = {},
  ): Promise<T> => {
    const write = method === 'POST';
    const response = await client.request({
      method,
      path,
      ...(write
        ? {
            body: formEncode(params),
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            idempotencyKey: options.idempotencyKey ?? `patchbay-${randomUUID()}`,
          }
        : { query: Object.fromEntries(formPairs(params)) }),
      ...(options.signal && { signal: options.signal }),
      schema,
    });
    return response.body;
  };
  const list = <T>(path: string, schema: ResponseSchema<T>) =>
    async function* (params: StripeListParams = {}, options: StripeCallOptions = {}): AsyncGenerator<T> {
      const query = Object.fromEntries(formPairs({ limit: 100, ...params }));
      for await (const raw of paginate<unknown>(
        client,
        { path, query, ...(options.signal && { signal: options.signal }) },
        { kind: 'starting-after' },
      )) {
        yield validItem(schema, raw, path);
      }
    };
  const keyed = (what: string, options: StripeKeyedWriteOptions | undefined) => {
    if (typeof options?.idempotencyKey !== 'string' || options.idempotencyKey === '') {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `${what} needs options.idempotencyKey (an order or job id: a repeat after a crash must replay, not charge again)`,
      );
    }
    return options;
  };

  return {
    customers: {
      create: async (input, options) => send('POST', '/v1/customers', customerSchema, input, options),
      get: async (id, options) =>
        send('GET', `/v1/customers/${segment('customer id', id)}`, customerSchema, {}, options),
      update: async (id, change, options) =>
        send('POST', `/v1/customers/${segment('customer id', id)}`, customerSchema, change, options),
      del: async (id, options) =>
        send('DELETE', `/v1/customers/${segment('customer id', id)}`, deletedSchema, {}, options) as Promise<{
          id: string;
          deleted: true;
        }>,
      list: list('/v1/customers', customerSchema),
    },
    paymentIntents: {
      create: async (input, options) =>
        send('POST', '/v1/payment_intents', paymentIntentSchema, input, keyed('a payment intent', options)),
      get: async (id, options) =>
        send(
          'GET',
          `/v1/payment_intents/${segment('payment intent id', id)}`,
          paymentIntentSchema,
          {},
          options,
        ),
      confirm: async (id, params, options) =>
        send(
          'POST',
          `/v1/payment_intents/${segment('payment intent id', id)}/confirm`,
          paymentIntentSchema,
          params,
          keyed('confirming a payment intent', options),
        ),
      capture: async (id, params, options) =>
        send(
          'POST',
          `/v1/payment_intents/${segment('payment intent id', id)}/capture`,
          paymentIntentSchema,
          params,
          keyed('capturing a payment intent', options),
        ),
      cancel: async (id, params, options) =>
        send(
          'POST',
          `/v1/payment_intents/${segment('payment intent id', id)}/cancel`,
          paymentIntentSchema,
          params,
          options,
        ),
      list: list('/v1/payment_intents', paymentIntentSchema),
    },
    refunds: {
      create: async (input, options) =>
        send('POST', '/v1/refunds', refundSchema, input, keyed('a refund', options)),
      get: async (id, options) =>
        send('GET', `/v1/refunds/${segment('refund id', id)}`, refundSchema, {}, options),
      list: list('/v1/refunds', refundSchema),
    },
    charges: {
      get: async (id, options) =>
        send('GET', `/v1/charges/${segment('charge id', id)}`, chargeSchema, {}, options),
      list: list('/v1/charges', chargeSchema),
    },
    events: { list: list('/v1/events', eventSchema) },
  };
}

function segment(what: string, id: string): string {
  if (typeof id !== 'string' || !ID.test(id)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `a Stripe ${what} is letters, digits and _, got ${JSON.stringify(id)}`,
    );
  }
  return id;
}

function validItem<T>(schema: ResponseSchema<T>, raw: unknown, path: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new PatchbayError(
    ErrorCode.RESPONSE_INVALID,
    `Stripe answered ${path} with an item that is not what Patchbay reads: ${issue?.path.join('.') || '(item)'} ${issue?.message ?? ''}`.trim(),
  );
}
