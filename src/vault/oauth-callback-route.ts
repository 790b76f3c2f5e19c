import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorMessage, isPatchbayError } from '../core/errors.js';
import type { VaultServices } from './open-vault.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(reply: FastifyReply, status: number, title: string, text: string) {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'")
    .send(
      `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`,
    );
}

/**
 * `GET /oauth/callback`: where providers send the browser after consent. Public (the provider cannot
 * carry the admin token): the single-use `state` is what authenticates the request.
 */
export async function oauthCallbackRoute(app: FastifyInstance, vault: VaultServices): Promise<void> {
  app.get('/oauth/callback', { schema: { hide: true } }, async (request, reply) => {
    const query = new URL(request.url, 'http://callback').searchParams;
    try {
      const { connection, returnTo } = await vault.authorization.complete(query, AbortSignal.timeout(30_000));
      if (returnTo) {
        const target = new URL(returnTo);
        target.searchParams.set('connection', connection.id);
        target.searchParams.set('status', connection.status);
        return reply.redirect(target.href, 302);
      }
      return page(
        reply,
        200,
        'Connected',
        `Connection ${connection.id} is authorized. You can close this window.`,
      );
    } catch (err) {
      const expected = isPatchbayError(err) && err.code !== 'INTERNAL';
      if (!expected) request.log.error({ err }, 'oauth callback failed');
      return page(
        reply,
        expected ? 400 : 500,
        'Authorization failed',
        expected ? errorMessage(err) : `internal error; the log has details under request id ${request.id}`,
      );
    }
  });
}
