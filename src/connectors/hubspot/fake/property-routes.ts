import type { FastifyInstance } from 'fastify';
import type { TypeState } from './crm-store.js';
import { type FakeContext, jsonBody, route } from './fake-context.js';
import { HubSpotFailure, sendError, validation } from './fake-errors.js';
import { type PropertyDefinition, propertyDefinition } from './object-types.js';
import { flag } from './paging.js';

const TYPES = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool', 'phone_number'] as const;
const NAME = /^[a-z][a-z0-9_]{0,99}$/;

/**
 * `/crm/v3/properties/{type}`: list, read, create (201; 409 when the name is taken), batch create,
 * update, archive. A property must exist before a record's value is written to it.
 */
export function propertyRoutes(app: FastifyInstance, ctx: FakeContext): void {
  const { store } = ctx;
  const at = () => new Date(ctx.kit.clock.now()).toISOString();

  const create = (state: TypeState, input: Record<string, unknown>): PropertyDefinition => {
    const name = input.name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw validation(
        `Property name ${JSON.stringify(name)} must be lower case letters, digits and "_", starting with a letter`,
      );
    }
    if (state.properties.has(name)) {
      throw new HubSpotFailure(409, `A property named '${name}' already exists.`, 'OBJECT_ALREADY_EXISTS');
    }
    const type = input.type;
    if (!TYPES.includes(type as (typeof TYPES)[number]))
      throw validation(`type must be one of ${TYPES.join(', ')}`);
    if (typeof input.label !== 'string' || input.label === '') throw validation('label is required');
    if (typeof input.fieldType !== 'string' || input.fieldType === '')
      throw validation('fieldType is required');
    if (typeof input.groupName !== 'string' || input.groupName === '')
      throw validation('groupName is required');
    const options = Array.isArray(input.options)
      ? input.options.map((o: Record<string, unknown>, i: number) => ({
          label: String(o?.label ?? o?.value ?? ''),
          value: String(o?.value ?? ''),
          displayOrder: Number(o?.displayOrder ?? i),
          hidden: o?.hidden === true,
        }))
      : [];
    const definition = propertyDefinition(
      {
        name,
        type: type as PropertyDefinition['type'],
        fieldType: input.fieldType,
        label: input.label,
        groupName: input.groupName,
        description: typeof input.description === 'string' ? input.description : '',
        hasUniqueValue: input.hasUniqueValue === true,
        options,
      },
      at(),
    );
    store.addProperty(state, definition);
    return definition;
  };

  const view = (p: PropertyDefinition) => {
    const { readOnlyValue, ...rest } = p;
    return {
      ...rest,
      modificationMetadata: {
        archivable: !p.hubspotDefined,
        readOnlyDefinition: p.hubspotDefined,
        readOnlyValue,
      },
    };
  };

  app.get(
    '/crm/v3/properties/:type',
    route(async (request) => {
      const state = store.type((request.params as { type: string }).type);
      const archived = flag((request.query as Record<string, unknown>).archived);
      return { results: [...state.properties.values()].filter((p) => p.archived === archived).map(view) };
    }),
  );

  app.get(
    '/crm/v3/properties/:type/:name',
    route(async (request, reply) => {
      const { type, name } = request.params as { type: string; name: string };
      const property = store.type(type).properties.get(name);
      if (!property || property.archived) {
        return sendError(reply, 404, `Unable to find property ${name}`, 'OBJECT_NOT_FOUND');
      }
      return view(property);
    }),
  );

  app.post(
    '/crm/v3/properties/:type',
    route(async (request, reply) => {
      const state = store.type((request.params as { type: string }).type);
      return reply.status(201).send(view(create(state, jsonBody(request))));
    }),
  );

  app.post(
    '/crm/v3/properties/:type/batch/create',
    route(async (request, reply) => {
      const state = store.type((request.params as { type: string }).type);
      const inputs = jsonBody(request).inputs;
      if (!Array.isArray(inputs)) throw validation('inputs must be an array');
      const results: unknown[] = [];
      const errors: unknown[] = [];
      for (const input of inputs) {
        try {
          results.push(view(create(state, input as Record<string, unknown>)));
        } catch (error) {
          if (!(error instanceof HubSpotFailure)) throw error;
          errors.push({
            status: 'error',
            category: error.category,
            message: error.message,
            context: { name: [String(input?.name)] },
          });
        }
      }
      const body = { status: 'COMPLETE', results, startedAt: at(), completedAt: at() };
      return errors.length === 0
        ? reply.status(201).send(body)
        : reply.status(207).send({ ...body, numErrors: errors.length, errors });
    }),
  );

  app.patch(
    '/crm/v3/properties/:type/:name',
    route(async (request, reply) => {
      const { type, name } = request.params as { type: string; name: string };
      const property = store.type(type).properties.get(name);
      if (!property || property.archived)
        return sendError(reply, 404, `Unable to find property ${name}`, 'OBJECT_NOT_FOUND');
      const input = jsonBody(request);
      if (typeof input.label === 'string') property.label = input.label;
      if (typeof input.description === 'string') property.description = input.description;
      if (typeof input.groupName === 'string') property.groupName = input.groupName;
      property.updatedAt = at();
      return view(property);
    }),
  );

  app.delete(
    '/crm/v3/properties/:type/:name',
    route(async (request, reply) => {
      const { type, name } = request.params as { type: string; name: string };
      const property = store.type(type).properties.get(name);
      if (property?.hubspotDefined) throw validation(`${name} is a HubSpot property and cannot be archived`);
      if (property) property.archived = true;
      return reply.status(204).send();
    }),
  );
}
