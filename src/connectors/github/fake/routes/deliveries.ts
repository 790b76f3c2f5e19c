import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GitHubFakeContext } from '../context.js';
import { notFound, sendError, validationFailed } from '../github-errors.js';
import { cursorPageOf } from '../pages.js';
import { deliveryItemJson, deliveryJson } from '../representations.js';
import { hookLookups } from './hooks.js';

type Query = Record<string, string | undefined>;

const DOCS = {
  deliveries: 'https://docs.github.com/rest/repos/webhooks#list-deliveries-for-a-repository-webhook',
  redeliver: 'https://docs.github.com/rest/repos/webhooks#redeliver-a-delivery-for-a-repository-webhook',
};

/** GitHub lets a delivery be redelivered for 3 days (older docs said 30). */
export const REDELIVERY_WINDOW_MS = 3 * 24 * 3_600_000;

/**
 * A hook's deliveries: listed newest first with cursor links (only ever `next`), filtered by outcome
 * (`status=success|failure`) or `redelivery`; one delivery with its request and response; and a
 * redelivery, `202 Accepted`, made asynchronously with the same GUID and `redelivery: true` — within
 * 3 days of the original on the fake's clock, else 422.
 */
export function deliveryRoutes(app: FastifyInstance, ctx: GitHubFakeContext): void {
  const { hookOf } = hookLookups(ctx);
  const deliveries = async (request: FastifyRequest, reply: FastifyReply) => {
    const found = hookOf(request, reply);
    if (!found) return reply;
    const query = request.query as Query;
    const outcome = query.status;
    if (outcome !== undefined && outcome !== 'success' && outcome !== 'failure') {
      return validationFailed(reply, 'HookDelivery', 'status', 'invalid', DOCS.deliveries);
    }
    const items = ctx.state.deliveries
      .filter((d) => d.hookId === found.hook.id)
      .filter((d) => query.redelivery === undefined || String(d.redelivery) === query.redelivery)
      .filter((d) => outcome === undefined || (outcome === 'success') === (d.status === 'OK'))
      .sort((a, b) => b.id - a.id);
    const origin = ctx.kit.origin(request);
    const page = cursorPageOf(items, {
      url: `${origin}/repositories/${found.repo.id}/hooks/${found.hook.id}/deliveries`,
      query,
    });
    if ('error' in page) return sendError(reply, 400, 'Invalid cursor', DOCS.deliveries);
    if (page.link) reply.header('link', page.link);
    return page.items.map(deliveryItemJson);
  };
  app.get('/repos/:owner/:repo/hooks/:hook_id/deliveries', deliveries);
  app.get('/repositories/:id/hooks/:hook_id/deliveries', deliveries);

  const deliveryOf = (request: FastifyRequest, reply: FastifyReply) => {
    const found = hookOf(request, reply);
    if (!found) return undefined;
    const id = Number((request.params as { delivery_id: string }).delivery_id);
    const delivery = ctx.state.deliveries.find((d) => d.id === id && d.hookId === found.hook.id);
    if (!delivery) {
      notFound(reply);
      return undefined;
    }
    return { ...found, delivery };
  };

  app.get('/repos/:owner/:repo/hooks/:hook_id/deliveries/:delivery_id', async (request, reply) => {
    const found = deliveryOf(request, reply);
    if (!found) return reply;
    return deliveryJson(found.delivery, ctx.kit.origin(request));
  });

  app.post('/repos/:owner/:repo/hooks/:hook_id/deliveries/:delivery_id/attempts', async (request, reply) => {
    const found = deliveryOf(request, reply);
    if (!found) return reply;
    const { hook, delivery } = found;
    if (ctx.kit.clock.now() - delivery.deliveredAt > REDELIVERY_WINDOW_MS) {
      return validationFailed(
        reply,
        'HookDelivery',
        'delivery_id',
        'custom',
        DOCS.redeliver,
        'Deliveries older than 3 days cannot be redelivered',
      );
    }
    ctx.sender.send(
      hook,
      { event: delivery.event, action: delivery.action, payload: delivery.request.payload },
      { guid: delivery.guid, redelivery: true },
    );
    ctx.kit.count('redeliveries');
    return reply.status(202).send({});
  });
}
