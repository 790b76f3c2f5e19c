import type { FastifyInstance } from 'fastify';
import type { StripeFakeContext } from '../context.js';
import { endpoint, expand } from '../endpoint.js';
import { stripeId } from '../ids.js';
import { LIST_PARAMS, listOf } from '../list.js';
import type { WebhookEndpoint } from '../model.js';
import { noSuch, paramError } from '../stripe-errors.js';

/**
 * Events (every change the fake makes is one) and webhook endpoints. An endpoint's signing secret
 * (`whsec_…`) is returned once, when it is created — as Stripe does.
 */
export function eventRoutes(app: FastifyInstance, ctx: StripeFakeContext): void {
  endpoint(app, ctx, 'GET', '/v1/events', (call) => {
    const r = call.reader([...LIST_PARAMS, 'type', 'types']);
    const type = r.string('type');
    const all = ctx.state
      .newestFirst(ctx.state.events)
      .filter(
        (e) =>
          type === undefined || (type.endsWith('*') ? e.type.startsWith(type.slice(0, -1)) : e.type === type),
      );
    return expand(ctx, listOf(all, r, '/v1/events', 'event'), r.expand());
  });

  endpoint(app, ctx, 'GET', '/v1/events/:id', (call) => {
    call.reader([]);
    const event = ctx.state.events.get(call.path('id'));
    if (!event) throw noSuch('event', call.path('id'));
    return event;
  });

  const visible = ({ secret: _secret, ...endpoint }: WebhookEndpoint & { secret: string }) => endpoint;
  const find = (id: string) => {
    const found = ctx.state.endpoints.get(id);
    if (!found) throw noSuch('webhook endpoint', id);
    return found;
  };
  const events = (value: unknown, required: boolean): string[] | undefined => {
    if (value === undefined) {
      if (required)
        throw paramError('Missing required param: enabled_events.', 'enabled_events', 'parameter_missing');
      return undefined;
    }
    const list = Array.isArray(value) ? value : [value];
    if (
      list.length === 0 ||
      !list.every((e): e is string => typeof e === 'string' && /^(\*|[a-z_]+(\.[a-z_]+)+)$/.test(e))
    ) {
      throw paramError(
        'Invalid enabled_events: each must be an event type such as payment_intent.succeeded, or *',
        'enabled_events',
      );
    }
    return list;
  };
  const url = (value: string | undefined) => {
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return value;
    } catch {}
    throw paramError(`Invalid URL: ${value}`, 'url', 'url_invalid');
  };

  endpoint(app, ctx, 'POST', '/v1/webhook_endpoints', (call) => {
    const r = call.reader(['url', 'enabled_events', 'description', 'metadata', 'api_version', 'connect']);
    const made = ctx.state.add(ctx.state.endpoints, {
      id: stripeId('we'),
      object: 'webhook_endpoint',
      api_version: r.string('api_version') ?? null,
      created: Math.floor(call.now / 1000),
      description: r.string('description') ?? null,
      enabled_events: events(call.params.enabled_events, true)!,
      livemode: false,
      metadata: r.metadata(),
      status: 'enabled',
      url: url(r.string('url', true))!,
      secret: stripeId('whsec', 32),
    });
    return { ...visible(made), secret: made.secret };
  });

  endpoint(app, ctx, 'GET', '/v1/webhook_endpoints/:id', (call) => {
    call.reader([]);
    return visible(find(call.path('id')));
  });

  endpoint(app, ctx, 'POST', '/v1/webhook_endpoints/:id', (call) => {
    const found = find(call.path('id'));
    const r = call.reader(['url', 'enabled_events', 'description', 'metadata', 'disabled']);
    found.url = url(r.string('url')) ?? found.url;
    found.enabled_events = events(call.params.enabled_events, false) ?? found.enabled_events;
    const disabled = r.boolean('disabled');
    if (disabled !== undefined) found.status = disabled ? 'disabled' : 'enabled';
    found.description = r.nullableString('description') ?? found.description;
    found.metadata = r.metadata(found.metadata);
    return visible(found);
  });

  endpoint(app, ctx, 'DELETE', '/v1/webhook_endpoints/:id', (call) => {
    call.reader([]);
    const found = find(call.path('id'));
    ctx.state.endpoints.delete(found.id);
    return { id: found.id, object: 'webhook_endpoint', deleted: true };
  });

  endpoint(app, ctx, 'GET', '/v1/webhook_endpoints', (call) => {
    const r = call.reader([...LIST_PARAMS]);
    return listOf(
      ctx.state.newestFirst(ctx.state.endpoints).map(visible),
      r,
      '/v1/webhook_endpoints',
      'webhook endpoint',
    );
  });
}
