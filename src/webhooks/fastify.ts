import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {
  HandshakeResponse,
  VerifierConfig,
  VerifySuccess,
  WebhookEvent,
  WebhookFailure,
  WebhookSchemeName,
} from './verify/index.js';
import { createWebhookVerifier, headersFromRaw, type WebhookVerifier } from './verify/index.js';

/**
 * A thin Fastify adapter for library users who run their own server: it keeps request bodies as raw bytes
 * (verification needs the exact bytes, so no JSON parser may run first), verifies every request of the
 * scope, answers handshakes and rejections itself, and hands verified events to the route.
 *
 * ```ts
 * app.register(async (hooks) => {
 *   await hooks.register(webhookVerification, { scheme: 'github', secrets: [process.env.GH_SECRET!] });
 *   hooks.post('/hooks/github', async (request) => {
 *     for (const event of webhookOf(request)!.events) await handle(event);
 *     return { ok: true };
 *   });
 * });
 * ```
 * Register it inside its own scope (as above): the raw-body parser replaces the JSON parser there.
 */

/** What a verified request carries into the route handler. */
export interface WebhookReceipt {
  verification: VerifySuccess;
  events: WebhookEvent[];
  /** The bytes that were verified. */
  rawBody: Buffer;
}

export interface FastifyWebhookOptions extends VerifierConfig {
  scheme: WebhookSchemeName;
  /** Called on every rejected request (for logs and metrics) before the 4xx is sent. */
  onRejected?: (failure: WebhookFailure, request: FastifyRequest) => void;
}

const receipts = new WeakMap<FastifyRequest, WebhookReceipt>();

/** The verified events of a request that went through `webhookVerification` (undefined otherwise). */
export function webhookOf(request: FastifyRequest): WebhookReceipt | undefined {
  return receipts.get(request);
}

/** Makes every body in this scope a Buffer of the raw bytes, whatever its content type. */
export function useRawBody(instance: FastifyInstance): void {
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}

/** Answers a handshake (Graph validation, Slack url_verification) as the scheme asks. */
export function sendHandshake(reply: FastifyReply, response: HandshakeResponse): FastifyReply {
  const { status, contentType, body } = response;
  // The token is echoed back: never let a browser sniff it into something executable.
  return reply.code(status).type(contentType).header('x-content-type-options', 'nosniff').send(body);
}

/**
 * A preHandler that verifies with `verifier`. Rejections are answered `{ error: { code, message } }` with
 * 401/400, handshakes with their own response; otherwise the receipt is stored for `webhookOf`.
 */
export function createWebhookPreHandler(
  verifier: WebhookVerifier,
  onRejected?: FastifyWebhookOptions['onRejected'],
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const result = verifier.receive({
      rawBody,
      headers: headersFromRaw(request.raw.rawHeaders),
      url: request.url,
      method: request.method,
    });
    if (result.kind === 'handshake') {
      await sendHandshake(reply, result.response);
      return;
    }
    if (result.kind === 'rejected') {
      onRejected?.(result.failure, request);
      await reply
        .code(result.failure.status)
        .send({ error: { code: result.failure.code, message: result.failure.reason } });
      return;
    }
    receipts.set(request, { verification: result.verification, events: result.events, rawBody });
  };
}

/**
 * The plugin: raw bodies plus verification for every route of the scope it is registered in. Secrets and
 * options are checked at registration, so a misconfiguration fails `app.ready()`, not the first request.
 */
export async function webhookVerification(
  instance: FastifyInstance,
  options: FastifyWebhookOptions,
): Promise<void> {
  const { scheme, onRejected, ...config } = options;
  const verifier = createWebhookVerifier(scheme, config);
  useRawBody(instance);
  instance.addHook('preHandler', createWebhookPreHandler(verifier, onRejected));
}

// Like fastify-plugin: apply to the scope that registers it, not to a child scope of its own.
(webhookVerification as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
