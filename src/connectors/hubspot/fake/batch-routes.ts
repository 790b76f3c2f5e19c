import type { FastifyInstance } from 'fastify';
import type { StoredRecord, TypeState } from './crm-store.js';
import {
  conflictFailure,
  type FakeContext,
  findRecord,
  jsonBody,
  route,
  writeValues,
} from './fake-context.js';
import { HubSpotFailure, validation } from './fake-errors.js';
import { associationInputs } from './object-routes.js';
import { flag, listParam } from './paging.js';
import { viewRecord } from './record-view.js';

/** HubSpot's batch endpoints take at most 100 inputs (https://developers.hubspot.com/docs/api/usage-details). */
export const BATCH_LIMIT = 100;

interface ItemError {
  status: 'error';
  category: string;
  message: string;
  context: Record<string, string[]>;
}

type Planned = { apply: () => Record<string, unknown> } | { error: ItemError; failure: HubSpotFailure };

/**
 * `/crm/v3/objects/{type}/batch/{read,create,update,upsert,archive}`. More than 100 inputs is a 400.
 * A read with missing ids answers 207 listing them (not 404); an update's unknown ids likewise. A write
 * is all-or-nothing (400 for its first bad input) unless every input carries an `objectWriteTraceId`:
 * then HubSpot's multi-status applies the good ones and answers 207 with one error per bad input.
 */
export function batchRoutes(app: FastifyInstance, ctx: FakeContext): void {
  const { store, associations } = ctx;
  const at = () => new Date(ctx.kit.clock.now()).toISOString();

  const inputsOf = (body: Record<string, unknown>) => {
    const inputs = body.inputs;
    if (!Array.isArray(inputs)) throw validation('inputs must be an array');
    if (inputs.length > BATCH_LIMIT) {
      throw validation(`Batch input size ${inputs.length} exceeds the limit of ${BATCH_LIMIT} inputs`, {
        context: { inputs: [String(inputs.length)] },
      });
    }
    return inputs as Record<string, unknown>[];
  };

  const answer = (
    reply: import('fastify').FastifyReply,
    ok: number,
    results: unknown[],
    errors: ItemError[],
  ) => {
    const startedAt = at();
    const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: at() };
    if (errors.length === 0) return reply.status(ok).send(body);
    return reply.status(207).send({ ...body, numErrors: errors.length, errors });
  };

  /** Plans every input first; applies them all, or none (throwing the first failure), or the good ones (207). */
  const run = (inputs: Record<string, unknown>[], plan: (input: Record<string, unknown>) => Planned) => {
    const traced = inputs.length > 0 && inputs.every((i) => typeof i?.objectWriteTraceId === 'string');
    const planned = inputs.map((input) => {
      try {
        return plan(input);
      } catch (failure) {
        if (!(failure instanceof HubSpotFailure)) throw failure;
        const trace = typeof input?.objectWriteTraceId === 'string' ? input.objectWriteTraceId : undefined;
        return {
          failure,
          error: {
            status: 'error' as const,
            category: failure.category ?? 'VALIDATION_ERROR',
            message: failure.message,
            context: trace ? { objectWriteTraceId: [trace] } : {},
          },
        };
      }
    });
    const failed = planned.find(
      (p): p is Extract<Planned, { error: unknown }> =>
        'error' in p && p.error.category !== 'OBJECT_NOT_FOUND',
    );
    if (failed && !traced) throw failed.failure;
    const results: unknown[] = [];
    const errors: ItemError[] = [];
    planned.forEach((p, i) => {
      if ('error' in p) errors.push(p.error);
      else {
        const trace = inputs[i]!.objectWriteTraceId;
        results.push({ ...p.apply(), ...(typeof trace === 'string' && { objectWriteTraceId: trace }) });
      }
    });
    return { results, errors: mergeNotFound(errors) };
  };

  const noDuplicateIds = (inputs: Record<string, unknown>[]) => {
    const seen = new Set<string>();
    const dupes = new Set<string>();
    for (const input of inputs) {
      const id = String(input?.id ?? '');
      if (seen.has(id)) dupes.add(id);
      seen.add(id);
    }
    if (dupes.size > 0)
      throw validation(`Duplicate IDs found in batch input: [${[...dupes].join(', ')}]. IDs must be unique`);
  };

  const notFound = (state: TypeState, id: string) =>
    new HubSpotFailure(
      404,
      `Could not get some ${state.type.singular.toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
      'OBJECT_NOT_FOUND',
      { context: { ids: [id] } },
    );

  app.post(
    '/crm/v3/objects/:type/batch/read',
    route(async (request, reply) => {
      const state = store.type((request.params as { type: string }).type);
      const body = jsonBody(request);
      const inputs = inputsOf(body);
      const archived = flag((request.query as Record<string, unknown>).archived);
      const idProperty = typeof body.idProperty === 'string' ? body.idProperty : undefined;
      const request_ = {
        properties: listParam(body.properties),
        propertiesWithHistory: listParam(body.propertiesWithHistory),
      };
      const results: unknown[] = [];
      const missing: string[] = [];
      const seen = new Set<string>();
      for (const input of inputs) {
        const id = String(input?.id ?? '');
        const record = findRecord(ctx, state, id, idProperty, archived);
        if (!record) missing.push(id);
        else if (!seen.has(record.id)) {
          seen.add(record.id);
          results.push(viewRecord(store, associations, record, request_));
        }
      }
      const errors = missing.length === 0 ? [] : [notFoundError(state, missing)];
      return answer(reply, 200, results, errors);
    }),
  );

  app.post(
    '/crm/v3/objects/:type/batch/create',
    route(async (request, reply) => {
      const state = store.type((request.params as { type: string }).type);
      const inputs = inputsOf(jsonBody(request));
      const claimed = new Map<string, string>();
      const { results, errors } = run(inputs, (input) => {
        const values = writeValues(ctx, state, input.properties);
        const conflict = store.conflict(state, values) ?? claimedConflict(state, values, claimed);
        if (conflict) throw conflictFailure(state, conflict.id);
        const links = associationInputs(ctx, state, input.associations);
        return {
          apply: () => {
            const record = store.create(state, values);
            for (const link of links)
              associations.associate(state.type, record.id, link.to.type, link.id, link.types);
            return viewRecord(store, associations, record, { written: Object.keys(values) });
          },
        };
      });
      return answer(reply, 201, results, errors);
    }),
  );

  app.post(
    '/crm/v3/objects/:type/batch/update',
    route(async (request, reply) => {
      const state = store.type((request.params as { type: string }).type);
      const inputs = inputsOf(jsonBody(request));
      noDuplicateIds(inputs);
      const { results, errors } = run(inputs, (input) => {
        const id = String(input.id ?? '');
        const idProperty = typeof input.idProperty === 'string' ? input.idProperty : undefined;
        const record = findRecord(ctx, state, id, idProperty);
        if (!record) throw notFound(state, id);
        const values = writeValues(ctx, state, input.properties);
        const conflict = store.conflict(state, values, record.id);
        if (conflict) throw conflictFailure(state, conflict.id);
        return {
          apply: () =>
            viewRecord(store, associations, store.update(state, record, values), {
              written: Object.keys(values),
            }),
        };
      });
      return answer(reply, 200, results, errors);
    }),
  );

  app.post(
    '/crm/v3/objects/:type/batch/upsert',
    route(async (request, reply) => {
      const state = store.type((request.params as { type: string }).type);
      const inputs = inputsOf(jsonBody(request));
      noDuplicateIds(inputs);
      const { results, errors } = run(inputs, (input) => {
        const id = String(input.id ?? '');
        if (id === '') throw validation('Each upsert input needs an id (the value of its idProperty)');
        const idProperty =
          typeof input.idProperty === 'string' && input.idProperty !== '' ? input.idProperty : 'hs_object_id';
        const values = writeValues(ctx, state, input.properties);
        const existing: StoredRecord | undefined = findRecord(ctx, state, id, idProperty);
        if (!existing && idProperty === 'hs_object_id') {
          throw validation(
            `Cannot create a ${state.type.singular} with id ${id}: upsert creates only by a unique idProperty`,
          );
        }
        const own = existing ? values : { ...values, [idProperty]: id };
        const conflict = store.conflict(state, own, existing?.id);
        if (conflict) throw conflictFailure(state, conflict.id);
        return {
          apply: () => {
            const record = existing ? store.update(state, existing, values) : store.create(state, own);
            return {
              ...viewRecord(store, associations, record, { written: Object.keys(own) }),
              new: !existing,
            };
          },
        };
      });
      return answer(reply, 200, results, errors);
    }),
  );

  app.post(
    '/crm/v3/objects/:type/batch/archive',
    route(async (request, reply) => {
      const state = store.type((request.params as { type: string }).type);
      for (const input of inputsOf(jsonBody(request))) {
        const record = state.records.get(String(input?.id ?? ''));
        if (record) store.archive(state, record);
      }
      return reply.status(204).send();
    }),
  );
}

function notFoundError(state: TypeState, ids: string[]): ItemError {
  return {
    status: 'error',
    category: 'OBJECT_NOT_FOUND',
    message: `Could not get some ${state.type.singular.toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
    context: { ids },
  };
}

/** HubSpot lists every missing id in one OBJECT_NOT_FOUND error. */
function mergeNotFound(errors: ItemError[]): ItemError[] {
  const missing = errors.filter((e) => e.category === 'OBJECT_NOT_FOUND');
  if (missing.length <= 1) return errors;
  const merged = { ...missing[0]!, context: { ids: missing.flatMap((e) => e.context.ids ?? []) } };
  return [merged, ...errors.filter((e) => e.category !== 'OBJECT_NOT_FOUND')];
}

/** Two inputs of one batch claiming one unique value: the second conflicts with the first. */
function claimedConflict(state: TypeState, values: Record<string, string>, claimed: Map<string, string>) {
  for (const property of state.unique.keys()) {
    const value = values[property];
    if (!value) continue;
    const key = `${property}:${property === 'email' ? value.toLowerCase() : value}`;
    if (claimed.has(key)) return { property, id: claimed.get(key)! };
    claimed.set(key, 'an earlier input of this batch');
  }
  return undefined;
}
