import { stripeId } from './ids.js';
import type {
  Charge,
  Customer,
  PaymentIntent,
  Refund,
  StripeEvent,
  StripeObject,
  WebhookEndpoint,
} from './model.js';

/** What the request that made a change was: events carry it (`request.id`, `request.idempotency_key`). */
export interface Origin {
  requestId: string;
  idempotencyKey: string | null;
}

/**
 * The fake account's objects. Each collection lists newest first, with objects created within the
 * same second kept in creation order (Stripe's `created` is in seconds).
 */
export class StripeFakeState {
  readonly customers = new Map<string, Customer>();
  readonly paymentIntents = new Map<string, PaymentIntent>();
  readonly charges = new Map<string, Charge>();
  readonly refunds = new Map<string, Refund>();
  readonly events = new Map<string, StripeEvent>();
  readonly endpoints = new Map<string, WebhookEndpoint & { secret: string }>();
  private readonly order = new Map<string, number>();
  private seq = 0;
  /** Called with every event made (the webhook sender listens). */
  onEvent: (event: StripeEvent) => void = () => {};

  constructor(readonly apiVersion: string) {}

  add<T extends StripeObject>(collection: Map<string, T>, object: T): T {
    collection.set(object.id, object);
    this.order.set(object.id, this.seq++);
    return object;
  }

  /** A collection's objects, newest first. */
  newestFirst<T extends StripeObject>(collection: Map<string, T>): T[] {
    return [...collection.values()].sort((a, b) => this.order.get(b.id)! - this.order.get(a.id)!);
  }

  /** Any object by id, for `expand`. */
  find(id: string): StripeObject | undefined {
    return (
      this.customers.get(id) ??
      this.paymentIntents.get(id) ??
      this.charges.get(id) ??
      this.refunds.get(id) ??
      this.events.get(id)
    );
  }

  emit(
    type: string,
    object: StripeObject,
    now: number,
    origin: Origin | null,
    previous?: Record<string, unknown>,
  ): void {
    const event: StripeEvent = {
      id: stripeId('evt'),
      object: 'event',
      api_version: this.apiVersion,
      created: Math.floor(now / 1000),
      data: {
        object: structuredClone(object) as unknown as Record<string, unknown>,
        ...(previous && { previous_attributes: previous }),
      },
      livemode: false,
      pending_webhooks: 0,
      request: { id: origin?.requestId ?? null, idempotency_key: origin?.idempotencyKey ?? null },
      type,
    };
    this.add(this.events, event);
    this.onEvent(event);
  }
}
