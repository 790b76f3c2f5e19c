import type { FastifyInstance } from 'fastify';
import { type FakeKit, type FakeProvider, type RunningFake, startFakeServer } from '../../fake-kit/index.js';
import { apiGate } from './api-gate.js';
import type { StripeFakeContext } from './context.js';
import { EventSender } from './event-sender.js';
import { IdempotencyStore } from './idempotency.js';
import { stripeId } from './ids.js';
import type { Customer } from './model.js';
import { resolveOptions, type StripeFakeOptions } from './options.js';
import { SecondLimits } from './rate-limit.js';
import { customerRoutes } from './routes/customers.js';
import { eventRoutes } from './routes/events.js';
import { paymentIntentRoutes } from './routes/payment-intents.js';
import { refundRoutes } from './routes/refunds.js';
import { StripeFakeState } from './state.js';
import { TEST_CARDS } from './test-cards.js';

export interface RunningStripeFake extends RunningFake {
  /** `host`, `port` and `protocol` for `new Stripe(key, { ...fake.sdkOptions })`. */
  readonly sdkOptions: { host: string; port: number; protocol: 'http' };
  /** Resolves once every webhook attempt under way has been made. */
  webhooksSettled(): Promise<void>;
}

/** `POST /_fake/seed` for Stripe: customers to create. */
export interface StripeSeed {
  customers?: number | { email?: string; name?: string }[];
}

/**
 * A faithful Stripe (v1) fake: customers, payment intents with the test cards, charges, refunds,
 * events and signed webhooks, idempotency keys exactly as Stripe keeps them, form-encoded parameters,
 * list pagination, errors and per-second limits. See docs/connectors/stripe.md for what it reproduces.
 */
export function stripeFake(
  options: StripeFakeOptions = {},
): FakeProvider & { webhooksSettled(): Promise<void> } {
  const resolved = resolveOptions(options);
  let ctx: StripeFakeContext | undefined;
  const fresh = () => {
    const state = new StripeFakeState(resolved.apiVersion);
    state.onEvent = (event) => ctx?.sender.send(event);
    return state;
  };
  const context = (kit: FakeKit): StripeFakeContext => {
    ctx ??= {
      kit,
      options: resolved,
      state: fresh(),
      sender: new EventSender(() => ctx!.state, kit.clock, {
        timeoutMs: resolved.webhookTimeoutMs,
        retryDelaysMs: resolved.webhookRetryDelaysMs,
      }),
      idempotency: new IdempotencyStore(),
      limits: new SecondLimits(resolved.rateLimit),
    };
    return ctx;
  };
  return {
    name: 'stripe',
    routes(app: FastifyInstance, kit: FakeKit) {
      const c = context(kit);
      apiGate(app, c);
      customerRoutes(app, c);
      paymentIntentRoutes(app, c);
      refundRoutes(app, c);
      eventRoutes(app, c);
      app.setNotFoundHandler((request, reply) =>
        reply.status(404).send({
          error: {
            message: `Unrecognized request URL (${request.method}: ${request.url.split('?')[0]}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
            type: 'invalid_request_error',
          },
        }),
      );
    },
    describe() {
      return {
        sdk: "new Stripe('sk_test_…', { host: '127.0.0.1', port: <port>, protocol: 'http' })",
        keys: 'any test-mode key: sk_test_… or rk_test_… (live keys are refused: this is a sandbox)',
        apiVersion: resolved.apiVersion,
        testPaymentMethods: Object.keys(TEST_CARDS),
        rateLimit: { ...resolved.rateLimit, per: 'second' },
      };
    },
    async reset(kit) {
      const c = context(kit);
      await c.sender.idle();
      c.state = fresh();
      c.idempotency.clear();
      c.limits.reset();
      c.sender.attempts.length = 0;
    },
    seed(input, kit) {
      const c = context(kit);
      const seed = (input ?? {}) as StripeSeed;
      const customers: { email?: string; name?: string }[] =
        typeof seed.customers === 'number'
          ? Array.from({ length: seed.customers }, () => ({}))
          : (seed.customers ?? []);
      if (!Array.isArray(customers))
        throw Object.assign(new Error('customers must be a count or an array of { email, name }'), {
          statusCode: 400,
        });
      return customers.map(
        (input, i) =>
          c.state.add<Customer>(c.state.customers, {
            id: stripeId('cus', 14),
            object: 'customer',
            created: Math.floor(kit.clock.now() / 1000) - (customers.length - i),
            email: input.email ?? `customer${i + 1}@example.com`,
            name: input.name ?? `Customer ${i + 1}`,
            phone: null,
            description: null,
            metadata: {},
            livemode: false,
          }).id,
      );
    },
    stats(kit) {
      const c = context(kit);
      const charges = [...c.state.charges.values()];
      return {
        customers: c.state.customers.size,
        paymentIntents: c.state.paymentIntents.size,
        charges: {
          succeeded: charges.filter((x) => x.status === 'succeeded').length,
          failed: charges.filter((x) => x.status === 'failed').length,
          capturedAmount: charges.reduce((n, x) => n + x.amount_captured, 0),
        },
        refunds: c.state.refunds.size,
        idempotencyKeys: c.idempotency.size,
        webhookAttempts: c.sender.attempts.length,
      };
    },
    webhooksSettled: () => ctx?.sender.idle() ?? Promise.resolve(),
    close() {
      ctx?.sender.close();
    },
  };
}

/** Starts the Stripe fake on 127.0.0.1 (an ephemeral port unless `port` is given). */
export async function startStripeFake(options: StripeFakeOptions = {}): Promise<RunningStripeFake> {
  const provider = stripeFake(options);
  const running = await startFakeServer(provider, options);
  const url = new URL(running.url);
  return {
    ...running,
    sdkOptions: { host: url.hostname, port: Number(url.port), protocol: 'http' },
    webhooksSettled: provider.webhooksSettled,
  };
}
