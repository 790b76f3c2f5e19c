import type { FastifyInstance } from 'fastify';
import type { StripeFakeContext } from '../context.js';
import { endpoint, expand } from '../endpoint.js';
import { stripeId } from '../ids.js';
import { LIST_PARAMS, listOf } from '../list.js';
import type { Customer } from '../model.js';
import { noSuch } from '../stripe-errors.js';

const FIELDS = ['email', 'name', 'phone', 'description', 'metadata'] as const;

/** Customers: create, retrieve, update, delete (a deleted one reads back as `{ id, deleted: true }`), list by email. */
export function customerRoutes(app: FastifyInstance, ctx: StripeFakeContext): void {
  const deleted = new Set<string>();
  const find = (id: string) => {
    const customer = ctx.state.customers.get(id);
    if (!customer) throw noSuch('customer', id);
    return customer;
  };

  endpoint(app, ctx, 'POST', '/v1/customers', (call) => {
    const r = call.reader(FIELDS);
    const customer = ctx.state.add<Customer>(ctx.state.customers, {
      id: stripeId('cus', 14),
      object: 'customer',
      created: Math.floor(call.now / 1000),
      email: r.string('email') ?? null,
      name: r.string('name') ?? null,
      phone: r.string('phone') ?? null,
      description: r.string('description') ?? null,
      metadata: r.metadata(),
      livemode: false,
    });
    ctx.state.emit('customer.created', customer, call.now, call.origin);
    return expand(ctx, customer, r.expand());
  });

  endpoint(app, ctx, 'GET', '/v1/customers/:id', (call) => {
    const r = call.reader([]);
    const id = call.path('id');
    if (deleted.has(id)) return { id, object: 'customer', deleted: true };
    return expand(ctx, find(id), r.expand());
  });

  endpoint(app, ctx, 'POST', '/v1/customers/:id', (call) => {
    const customer = find(call.path('id'));
    const r = call.reader(FIELDS);
    const previous: Record<string, unknown> = {};
    for (const field of ['email', 'name', 'phone', 'description'] as const) {
      const value = r.nullableString(field);
      if (value !== undefined && value !== customer[field]) {
        previous[field] = customer[field];
        customer[field] = value;
      }
    }
    const metadata = r.metadata(customer.metadata);
    if (JSON.stringify(metadata) !== JSON.stringify(customer.metadata)) {
      previous.metadata = customer.metadata;
      customer.metadata = metadata;
    }
    if (Object.keys(previous).length > 0)
      ctx.state.emit('customer.updated', customer, call.now, call.origin, previous);
    return expand(ctx, customer, r.expand());
  });

  endpoint(app, ctx, 'DELETE', '/v1/customers/:id', (call) => {
    call.reader([]);
    const customer = find(call.path('id'));
    ctx.state.customers.delete(customer.id);
    deleted.add(customer.id);
    ctx.state.emit('customer.deleted', customer, call.now, call.origin);
    return { id: customer.id, object: 'customer', deleted: true };
  });

  endpoint(app, ctx, 'GET', '/v1/customers', (call) => {
    const r = call.reader([...LIST_PARAMS, 'email']);
    const email = r.string('email');
    const all = ctx.state
      .newestFirst(ctx.state.customers)
      .filter((c) => email === undefined || c.email === email);
    return expand(ctx, listOf(all, r, '/v1/customers', 'customer'), r.expand());
  });
}
