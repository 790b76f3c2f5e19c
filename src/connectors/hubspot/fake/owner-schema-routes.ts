import type { FastifyInstance } from 'fastify';
import { type FakeContext, integer, jsonBody, route } from './fake-context.js';
import { sendError, validation } from './fake-errors.js';
import { type ObjectType, type PropertyDefinition, propertyDefinition } from './object-types.js';

export interface Owner {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  userId: number;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** The account's users as `GET /crm/v3/owners/` lists them (the values of `hubspot_owner_id`). */
export function defaultOwners(at: string): Owner[] {
  return [
    ['Ada', 'Lovelace'],
    ['Grace', 'Hopper'],
    ['Alan', 'Turing'],
  ].map(([firstName, lastName], i) => ({
    id: String(51_000 + i),
    email: `${firstName!.toLowerCase()}@example.com`,
    firstName: firstName!,
    lastName: lastName!,
    userId: 9_000_000 + i,
    createdAt: at,
    updatedAt: at,
    archived: false,
  }));
}

/** Owners (`/crm/v3/owners/`, filtered by `email`, paged) and custom object schemas (`/crm/v3/schemas`). */
export function ownerAndSchemaRoutes(app: FastifyInstance, ctx: FakeContext, owners: () => Owner[]): void {
  // The SDK asks for `/crm/v3/owners/`, the docs show it without the slash: both answer.
  const listOwners = route(async (request) => {
    const query = request.query as Record<string, unknown>;
    const limit = integer(query.limit, 'limit', 100, 500);
    const start =
      typeof query.after === 'string' && query.after !== '' ? Number(ctx.cursors.read(query.after)) : 0;
    const email = typeof query.email === 'string' ? query.email.toLowerCase() : undefined;
    const all = owners().filter((o) => email === undefined || o.email === email);
    const page = all.slice(start, start + limit);
    const next = start + page.length;
    return {
      results: page,
      ...(next < all.length && { paging: { next: { after: ctx.cursors.issue(String(next)) } } }),
    };
  });
  app.get('/crm/v3/owners', listOwners);
  app.get('/crm/v3/owners/', listOwners);
  app.get(
    '/crm/v3/owners/:id',
    route(async (request, reply) => {
      const owner = owners().find((o) => o.id === (request.params as { id: string }).id);
      return owner ?? sendError(reply, 404, 'Owner not found', 'OBJECT_NOT_FOUND');
    }),
  );

  const schemaView = (type: ObjectType, properties: PropertyDefinition[], labels: unknown) => ({
    id: type.objectTypeId.split('-')[1],
    objectTypeId: type.objectTypeId,
    fullyQualifiedName: type.name,
    name: type.singular,
    labels,
    primaryDisplayProperty: type.searchable[0],
    properties,
    associations: [],
    createdAt: new Date(ctx.kit.clock.now()).toISOString(),
    updatedAt: new Date(ctx.kit.clock.now()).toISOString(),
    archived: false,
  });
  const labels = new Map<string, unknown>();

  app.post(
    '/crm/v3/schemas',
    route(async (request, reply) => {
      const body = jsonBody(request);
      const name = body.name;
      if (typeof name !== 'string' || !/^[a-z][a-z0-9_]{0,49}$/i.test(name))
        throw validation('name must be letters, digits and "_"');
      const given = (body.labels ?? {}) as { singular?: unknown; plural?: unknown };
      if (typeof given.singular !== 'string' || typeof given.plural !== 'string')
        throw validation('labels.singular and labels.plural are required');
      const inputs = Array.isArray(body.properties) ? (body.properties as Record<string, unknown>[]) : [];
      const at = new Date(ctx.kit.clock.now()).toISOString();
      const properties = inputs.map((p) => {
        if (typeof p?.name !== 'string') throw validation('Each property needs a name');
        return propertyDefinition(
          {
            name: p.name,
            label: typeof p.label === 'string' ? p.label : p.name,
            type: (typeof p.type === 'string' ? p.type : 'string') as PropertyDefinition['type'],
            fieldType: typeof p.fieldType === 'string' ? p.fieldType : 'text',
            hasUniqueValue: p.hasUniqueValue === true,
          },
          at,
        );
      });
      const primary =
        typeof body.primaryDisplayProperty === 'string' ? body.primaryDisplayProperty : properties[0]?.name;
      if (!primary || !properties.some((p) => p.name === primary))
        throw validation('primaryDisplayProperty must be one of the properties');
      const type = ctx.store.defineCustomType(name, given.singular, primary, properties);
      labels.set(type.name, given);
      return reply.status(201).send(schemaView(type, properties, given));
    }),
  );
  app.get(
    '/crm/v3/schemas',
    route(async () => ({
      results: ctx.store
        .allTypes()
        .filter((s) => s.type.objectTypeId.startsWith('2-'))
        .map((s) => schemaView(s.type, [...s.properties.values()], labels.get(s.type.name))),
    })),
  );
}
