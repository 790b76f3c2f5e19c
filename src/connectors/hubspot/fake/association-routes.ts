import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AssociationType } from './association-store.js';
import type { TypeState } from './crm-store.js';
import { type FakeContext, integer, jsonBody, route } from './fake-context.js';
import { HubSpotFailure, validation } from './fake-errors.js';

/** v4 association batches take at most 1,000 inputs (changelog, February 2025). */
export const ASSOCIATION_BATCH_LIMIT = 1000;

type Pair = { from: TypeState; to: TypeState };
type ItemError = {
  status: 'error';
  category: string;
  subCategory?: string;
  message: string;
  context: Record<string, string[]>;
};

/**
 * Associations v4: one pair (`PUT …/associations/{toType}/{toId}` with types, `…/default/…`), a
 * record's associations to a type (paged, ≤ 500), removal, and batches of at most 1,000 to create,
 * create default, read and archive. A record at the per-record limit (`associationLimit`, per type of
 * the other side) refuses more with a 400 naming the record.
 */
export function associationRoutes(app: FastifyInstance, ctx: FakeContext, limit: () => number): void {
  const { store, associations } = ctx;
  const at = () => new Date(ctx.kit.clock.now()).toISOString();
  const pair = (params: { fromType: string; toType: string }): Pair => ({
    from: store.type(params.fromType),
    to: store.type(params.toType),
  });
  const record = (state: TypeState, id: string) => {
    const found = state.records.get(id);
    if (!found || found.archived) {
      throw new HubSpotFailure(404, `${state.type.singular} ${id} does not exist`, 'OBJECT_NOT_FOUND', {
        context: { id: [id] },
      });
    }
    return found;
  };

  /** Links two records (both sides), refusing types that do not join them and records at their limit. */
  const link = ({ from, to }: Pair, fromId: string, toId: string, types: AssociationType[]) => {
    record(from, fromId);
    record(to, toId);
    for (const t of types) {
      if (!associations.knows(from.type, to.type, t.typeId)) {
        throw validation(`${t.typeId} is not an association type from ${from.type.name} to ${to.type.name}`);
      }
    }
    const atLimit = (a: TypeState, aId: string, b: TypeState, bId: string) =>
      !associations.has(a.type, aId, b.type, bId) && associations.count(a.type, aId, b.type) >= limit();
    const full = atLimit(from, fromId, to, toId)
      ? [from, fromId, to]
      : atLimit(to, toId, from, fromId)
        ? [to, toId, from]
        : undefined;
    if (full) {
      const [a, aId, b] = full as [TypeState, string, TypeState];
      throw validation(
        `${a.type.singular} ${aId} already has the maximum of ${limit()} associations to ${b.type.name}`,
        {
          subCategory: 'crm.associations.TOO_MANY_ASSOCIATIONS',
          context: { fromObjectId: [aId], limit: [String(limit())] },
        },
      );
    }
    associations.associate(from.type, fromId, to.type, toId, types);
  };

  const typesOf = (input: unknown): AssociationType[] => {
    if (!Array.isArray(input) || input.length === 0)
      throw validation('Give the association types: [{ associationCategory, associationTypeId }]');
    return input.map((t) => ({
      category: t?.associationCategory === 'USER_DEFINED' ? 'USER_DEFINED' : 'HUBSPOT_DEFINED',
      typeId: Number(t?.associationTypeId),
      label: null,
    }));
  };

  const batch = (reply: FastifyReply, ok: number, results: unknown[], errors: ItemError[]) => {
    const body = { status: 'COMPLETE', results, startedAt: at(), completedAt: at() };
    return errors.length === 0
      ? reply.status(ok).send(body)
      : reply.status(207).send({ ...body, numErrors: errors.length, errors });
  };

  const inputs = (body: Record<string, unknown>) => {
    if (!Array.isArray(body.inputs)) throw validation('inputs must be an array');
    if (body.inputs.length > ASSOCIATION_BATCH_LIMIT) {
      throw validation(
        `Batch input size ${body.inputs.length} exceeds the limit of ${ASSOCIATION_BATCH_LIMIT} inputs`,
      );
    }
    return body.inputs as Record<string, unknown>[];
  };

  const itemError = (failure: unknown): ItemError => {
    if (!(failure instanceof HubSpotFailure)) throw failure;
    return {
      status: 'error',
      category: failure.category ?? 'VALIDATION_ERROR',
      ...(failure.extra.subCategory && { subCategory: failure.extra.subCategory }),
      message: failure.message,
      context: failure.extra.context ?? {},
    };
  };

  app.put(
    '/crm/v4/objects/:fromType/:fromId/associations/default/:toType/:toId',
    route(async (request, reply) => {
      const params = request.params as { fromType: string; fromId: string; toType: string; toId: string };
      const p = pair(params);
      const type = associations.defaultType(p.from.type, p.to.type);
      link(p, params.fromId, params.toId, [type]);
      return batch(
        reply,
        200,
        [
          {
            from: { id: params.fromId },
            to: { id: params.toId },
            associationSpec: { associationCategory: type.category, associationTypeId: type.typeId },
          },
        ],
        [],
      );
    }),
  );

  app.put(
    '/crm/v4/objects/:fromType/:fromId/associations/:toType/:toId',
    route(async (request, reply) => {
      const params = request.params as { fromType: string; fromId: string; toType: string; toId: string };
      const p = pair(params);
      link(p, params.fromId, params.toId, typesOf(request.body));
      return reply.status(201).send({
        fromObjectTypeId: p.from.type.objectTypeId,
        fromObjectId: Number(params.fromId),
        toObjectTypeId: p.to.type.objectTypeId,
        toObjectId: Number(params.toId),
        labels: [],
      });
    }),
  );

  app.get(
    '/crm/v4/objects/:fromType/:fromId/associations/:toType',
    route(async (request) => {
      const params = request.params as { fromType: string; fromId: string; toType: string };
      const p = pair(params);
      record(p.from, params.fromId);
      const query = request.query as Record<string, unknown>;
      const size = integer(query.limit, 'limit', 500, 500);
      const start =
        typeof query.after === 'string' && query.after !== '' ? Number(ctx.cursors.read(query.after)) : 0;
      const all = associations.list(p.from.type, params.fromId, p.to.type);
      const page = all.slice(start, start + size).map((a) => ({ ...a, toObjectId: Number(a.toObjectId) }));
      const next = start + page.length;
      return {
        results: page,
        ...(next < all.length && { paging: { next: { after: ctx.cursors.issue(String(next)) } } }),
      };
    }),
  );

  app.delete(
    '/crm/v4/objects/:fromType/:fromId/associations/:toType/:toId',
    route(async (request, reply) => {
      const params = request.params as { fromType: string; fromId: string; toType: string; toId: string };
      const p = pair(params);
      associations.remove(p.from.type, params.fromId, p.to.type, params.toId);
      return reply.status(204).send();
    }),
  );

  app.post(
    '/crm/v4/associations/:fromType/:toType/batch/create',
    route(async (request, reply) => {
      const p = pair(request.params as { fromType: string; toType: string });
      const results: unknown[] = [];
      const errors: ItemError[] = [];
      for (const input of inputs(jsonBody(request))) {
        const fromId = String((input.from as { id?: unknown })?.id ?? '');
        const toId = String((input.to as { id?: unknown })?.id ?? '');
        try {
          link(p, fromId, toId, typesOf(input.types));
          results.push({
            fromObjectTypeId: p.from.type.objectTypeId,
            fromObjectId: Number(fromId),
            toObjectTypeId: p.to.type.objectTypeId,
            toObjectId: Number(toId),
            labels: [],
          });
        } catch (failure) {
          errors.push(itemError(failure));
        }
      }
      return batch(reply, 201, results, errors);
    }),
  );

  app.post(
    '/crm/v4/associations/:fromType/:toType/batch/associate/default',
    route(async (request, reply) => {
      const p = pair(request.params as { fromType: string; toType: string });
      const type = associations.defaultType(p.from.type, p.to.type);
      const results: unknown[] = [];
      const errors: ItemError[] = [];
      for (const input of inputs(jsonBody(request))) {
        const fromId = String((input.from as { id?: unknown })?.id ?? '');
        const toId = String((input.to as { id?: unknown })?.id ?? '');
        try {
          link(p, fromId, toId, [type]);
          results.push({
            from: { id: fromId },
            to: { id: toId },
            associationSpec: { associationCategory: type.category, associationTypeId: type.typeId },
          });
        } catch (failure) {
          errors.push(itemError(failure));
        }
      }
      return batch(reply, 200, results, errors);
    }),
  );

  app.post(
    '/crm/v4/associations/:fromType/:toType/batch/read',
    route(async (request, reply) => {
      const p = pair(request.params as { fromType: string; toType: string });
      const results: unknown[] = [];
      const errors: ItemError[] = [];
      for (const input of inputs(jsonBody(request))) {
        const id = String(input.id ?? '');
        const found = associations.list(p.from.type, id, p.to.type);
        // HubSpot answers a record without associations of that type as an error of the 207.
        if (found.length === 0) {
          errors.push({
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: `No ${p.to.type.singular} is associated with ${p.from.type.singular} ${id}.`,
            context: { fromObjectId: [id] },
          });
        } else {
          results.push({ from: { id }, to: found.map((a) => ({ ...a, toObjectId: Number(a.toObjectId) })) });
        }
      }
      return batch(reply, 200, results, errors);
    }),
  );

  app.post(
    '/crm/v4/associations/:fromType/:toType/batch/archive',
    route(async (request, reply) => {
      const p = pair(request.params as { fromType: string; toType: string });
      for (const input of inputs(jsonBody(request))) {
        const fromId = String((input.from as { id?: unknown })?.id ?? '');
        const tos = Array.isArray(input.to) ? input.to : [];
        for (const to of tos) associations.remove(p.from.type, fromId, p.to.type, String(to?.id ?? ''));
      }
      return reply.status(204).send();
    }),
  );
}
