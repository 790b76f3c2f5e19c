import type { FastifyReply, FastifyRequest } from 'fastify';
import { type FakeKit, INVALID_JSON } from '../../fake-kit/index.js';
import type { AssociationStore } from './association-store.js';
import type { CrmStore, StoredRecord, TypeState } from './crm-store.js';
import { HubSpotFailure, propertyValuesFailure, sendError, validation } from './fake-errors.js';
import type { Cursors } from './paging.js';
import { checkValues } from './property-values.js';

/** What the fake's routes share. */
export interface FakeContext {
  readonly kit: FakeKit;
  readonly store: CrmStore;
  readonly associations: AssociationStore;
  readonly cursors: Cursors;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => unknown;

/** Answers a `HubSpotFailure` thrown anywhere in a handler in HubSpot's error shape. */
export function route(handler: Handler): Handler {
  return async (request, reply) => {
    try {
      return await handler(request, reply);
    } catch (error) {
      if (error instanceof HubSpotFailure)
        return sendError(reply, error.status, error.message, error.category, error.extra);
      throw error;
    }
  };
}

/** The JSON body as an object, or HubSpot's 400 for malformed or missing JSON. */
export function jsonBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === INVALID_JSON)
    throw validation('Invalid input JSON on line 1, column 1: the body is not valid JSON');
  if (
    body === undefined ||
    typeof body !== 'object' ||
    body === null ||
    Array.isArray(body) ||
    Buffer.isBuffer(body)
  ) {
    throw validation('Invalid input JSON: expected an object (is the Content-Type application/json?)');
  }
  return body as Record<string, unknown>;
}

/** A write's values checked against the type, or the 400 listing every bad one. */
export function writeValues(ctx: FakeContext, state: TypeState, properties: unknown): Record<string, string> {
  const { values, problems } = checkValues(properties, state.properties, ctx.store.portalId);
  if (problems.length > 0) throw propertyValuesFailure(problems);
  return values;
}

/** HubSpot's 409 for a unique value (a contact's email) another record already has. */
export function conflictFailure(state: TypeState, id: string): HubSpotFailure {
  const singular = state.type.singular;
  return new HubSpotFailure(
    409,
    `${singular[0]!.toUpperCase()}${singular.slice(1)} already exists. Existing ID: ${id}`,
    'CONFLICT',
  );
}

/** Looks a record up by id or by a unique property; archived ones only when asked. */
export function findRecord(
  ctx: FakeContext,
  state: TypeState,
  id: string,
  idProperty: string | undefined,
  archived = false,
): StoredRecord | undefined {
  const record =
    idProperty && idProperty !== 'hs_object_id'
      ? ctx.store.byUnique(state, idProperty, id)
      : state.records.get(id);
  return record && record.archived === archived ? record : undefined;
}

export function integer(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw validation(`${name} must be a positive integer, got ${String(value).slice(0, 20)}`);
  if (n > max) throw validation(`${name} must be at most ${max}, got ${n}`);
  return n;
}
