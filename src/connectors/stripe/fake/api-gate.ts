import type { FastifyInstance } from 'fastify';
import type { StripeFakeContext } from './context.js';
import { stripeId } from './ids.js';
import { errorBody, StripeFakeError } from './stripe-errors.js';

const NO_KEY =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";
const RATE_LIMITED =
  'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.';

/** Test-mode secret and restricted keys: the fake is a sandbox. */
const KEY = /^(?:sk|rk)_test_\w{1,247}$/;

/**
 * What Stripe does before any `/v1` route: a `request-id` on every answer, the API version echoed in
 * `stripe-version`, the key checked (Bearer, or Basic with the key as the user name), and the
 * per-second limits — a 429 whose body says `invalid_request_error` / `rate_limit` (stripe-node makes it
 * a `StripeRateLimitError` from the status, and does not retry it).
 */
export function apiGate(app: FastifyInstance, ctx: StripeFakeContext): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    const requestId = stripeId('req', 14);
    const now = ctx.kit.clock.now();
    reply.header('request-id', requestId);
    const refuse = (error: StripeFakeError) =>
      reply
        .status(error.status)
        .headers(error.headers)
        .send(errorBody(error, requestId, now));
    const version = request.headers['stripe-version'];
    if (typeof version === 'string' && !/^\d{4}-\d{2}-\d{2}(\.\w+)?$/.test(version)) {
      return refuse(
        new StripeFakeError(400, 'invalid_request_error', `Invalid Stripe API version: ${version}`),
      );
    }
    reply.header('stripe-version', typeof version === 'string' ? version : ctx.options.apiVersion);
    const key = keyOf(request.headers.authorization);
    if (key === undefined) return refuse(new StripeFakeError(401, 'invalid_request_error', NO_KEY));
    if (!KEY.test(key)) {
      const shown = key.length > 8 ? `${key.slice(0, key.indexOf('_', 3) + 1)}****${key.slice(-4)}` : key;
      const live = /^(sk|rk)_live_/.test(key) ? ' (this fake is a sandbox: use an sk_test_ key)' : '';
      return refuse(
        new StripeFakeError(401, 'invalid_request_error', `Invalid API Key provided: ${shown}${live}`),
      );
    }
    if (!ctx.limits.take(request.method !== 'GET', now)) {
      ctx.kit.count('rate-limited');
      return refuse(
        new StripeFakeError(429, 'invalid_request_error', RATE_LIMITED, { code: 'rate_limit' }, false, {
          'stripe-rate-limited-reason': 'global-rate',
        }),
      );
    }
  });
}

function keyOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s+(\S+)\s*$/.exec(header);
  if (!match) return undefined;
  if (match[1]!.toLowerCase() === 'bearer') return match[2];
  if (match[1]!.toLowerCase() === 'basic') {
    const decoded = Buffer.from(match[2]!, 'base64').toString('utf8');
    return decoded.slice(0, decoded.indexOf(':') < 0 ? undefined : decoded.indexOf(':'));
  }
  return undefined;
}
