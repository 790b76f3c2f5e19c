import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AssociationType } from './association-store.js';
import type { StoredRecord, TypeState } from './crm-store.js';
import {
  conflictFailure,
  type FakeContext,
  findRecord,
  integer,
  jsonBody,
  route,
  writeValues,
} from './fake-context.js';
import { HubSpotFailure, sendError, validation } from './fake-errors.js';
import { flag, listParam } from './paging.js';
import { viewRecord } from './record-view.js';

type Params = { type: string; id: string };
type Query = Record<string, unknown>;

const NOT_FOUND = (reply: import('fastify').FastifyReply) =>
  sendError(reply, 404, 'resource not found', 'OBJECT_NOT_FOUND');

/**
 * `/crm/v3/objects/{type}`: list (`limit` ≤ 100, `after`, `archived=true` for archived only), create
 * (201), and one record by id or unique property: read, update (200), archive (204).
 */
export function objectRoutes(app: FastifyInstance, ctx: FakeContext): void {
  const { store, associations, cursors } = ctx;
  const view = (record: StoredRecord, query: Query) =>
    viewRecord(store, associations, record, {
      properties: listParam(query.properties),
      propertiesWithHistory: listParam(query.propertiesWithHistory),
      associations: listParam(query.associations),
    });

  app.get(
    '/crm/v3/objects/:type',
    route(async (request) => {
      const state = store.type((request.params as Params).type);
      const query = request.query as Query;
      const limit = integer(query.limit, 'limit', 10, 100);
      const after =
        typeof query.after === 'string' && query.after !== '' ? cursors.read(query.after) : undefined;
      const { records, more } = store.page(state, after, limit, flag(query.archived));
      const body: Record<string, unknown> = { results: records.map((r) => view(r, query)) };
      if (more)
        body.paging = { next: nextPage(ctx, request, cursors.issue(records[records.length - 1]!.id)) };
      return body;
    }),
  );

  app.post(
    '/crm/v3/objects/:type',
    route(async (request, reply) => {
      const state = store.type((request.params as Params).type);
      const body = jsonBody(request);
      const values = writeValues(ctx, state, body.properties);
      const conflict = store.conflict(state, values);
      if (conflict) throw conflictFailure(state, conflict.id);
      const links = associationInputs(ctx, state, body.associations);
      const record = store.create(state, values);
      for (const link of links)
        associations.associate(state.type, record.id, link.to.type, link.id, link.types);
      return reply
        .status(201)
        .send(viewRecord(store, associations, record, { written: Object.keys(values) }));
    }),
  );

  app.get(
    '/crm/v3/objects/:type/:id',
    route(async (request, reply) => {
      const { type, id } = request.params as Params;
      const state = store.type(type);
      const query = request.query as Query;
      const record = findRecord(ctx, state, id, idProperty(query), flag(query.archived));
      return record ? view(record, query) : NOT_FOUND(reply);
    }),
  );

  app.patch(
    '/crm/v3/objects/:type/:id',
    route(async (request, reply) => {
      const { type, id } = request.params as Params;
      const state = store.type(type);
      const record = findRecord(ctx, state, id, idProperty(request.query as Query));
      if (!record) return NOT_FOUND(reply);
      const values = writeValues(ctx, state, jsonBody(request).properties);
      const conflict = store.conflict(state, values, record.id);
      if (conflict) throw conflictFailure(state, conflict.id);
      return viewRecord(store, associations, store.update(state, record, values), {
        written: Object.keys(values),
      });
    }),
  );

  app.delete(
    '/crm/v3/objects/:type/:id',
    route(async (request, reply) => {
      const { type, id } = request.params as Params;
      const state = store.type(type);
      const record = state.records.get(id);
      // Archiving what is missing or already archived is not an error.
      if (record) store.archive(state, record);
      return reply.status(204).send();
    }),
  );
}

function idProperty(query: Query): string | undefined {
  return typeof query.idProperty === 'string' && query.idProperty !== '' ? query.idProperty : undefined;
}

/** `{ after, link }`: the link repeats the request with the new cursor, absolute, on the fake's origin. */
export function nextPage(
  ctx: FakeContext,
  request: FastifyRequest,
  after: string,
): { after: string; link: string } {
  const url = new URL(request.url, ctx.kit.origin(request));
  url.searchParams.set('after', after);
  return { after, link: url.toString() };
}

/** The `associations` of a create: each target must exist, each type must join the two types. */
export function associationInputs(
  ctx: FakeContext,
  from: TypeState,
  input: unknown,
): { to: TypeState; id: string; types: AssociationType[] }[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw validation('associations must be an array');
  return input.map((item, i) => {
    const id = String(item?.to?.id ?? '');
    const types = Array.isArray(item?.types) ? item.types : [];
    if (!id || types.length === 0) throw validation(`associations[${i}] needs to.id and types`);
    const typeIds = types.map((t: { associationTypeId?: unknown }) => Number(t?.associationTypeId));
    const to = ctx.store
      .allTypes()
      .find((candidate) =>
        typeIds.every((t: number) => ctx.associations.knows(from.type, candidate.type, t)),
      );
    if (!to)
      throw validation(
        `associations[${i}]: ${typeIds.join(', ')} is not an association type of ${from.type.name}`,
      );
    const target = to.records.get(id);
    if (!target || target.archived) {
      throw new HubSpotFailure(
        400,
        `associations[${i}]: ${to.type.singular} ${id} does not exist`,
        'VALIDATION_ERROR',
      );
    }
    return {
      to,
      id,
      types: types.map((t: { associationCategory?: string; associationTypeId: number }) => ({
        category: t.associationCategory === 'USER_DEFINED' ? 'USER_DEFINED' : 'HUBSPOT_DEFINED',
        typeId: Number(t.associationTypeId),
        label: null,
      })),
    };
  });
}
