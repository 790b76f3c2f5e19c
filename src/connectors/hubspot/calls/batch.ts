import type { z } from 'zod';
import type { HttpRequest } from '../../../http/http-types.js';
import { unknownPropertiesIn } from '../errors.js';
import { type BatchError, batchResultSchema, type HubSpotObject } from '../schemas.js';
import { type ReadOptions, readQuery } from './objects.js';

/** HubSpot's batch endpoints take at most 100 inputs; callers' longer lists are sent in chunks of it. */
export const BATCH_SIZE = 100;

export type BatchWrite = 'create' | 'update' | 'upsert';

export interface WriteInput {
  /** The record's id (update), or the value of `idProperty` (upsert). */
  id?: string;
  idProperty?: string;
  properties: Record<string, string>;
}

/** One input that did not succeed, by its place in the caller's list. */
export interface BatchFailure {
  /** Index of the input in the list given to the call. */
  index: number;
  /** The id (or idProperty value) it named, when it named one. */
  id?: string;
  /** HubSpot's category (`OBJECT_NOT_FOUND`, `VALIDATION_ERROR`, `CONFLICT`) or Patchbay's code for a failed request. */
  category: string;
  message: string;
  /** Properties the input named that the type does not have (create them and retry). */
  unknownProperties?: string[];
}

export type BatchItem = HubSpotObject & { new?: boolean };

const path = (type: string, op: string) => `/crm/v3/objects/${encodeURIComponent(type)}/batch/${op}`;

export function batchReadRequest(
  type: string,
  ids: readonly string[],
  options: ReadOptions & { idProperty?: string } = {},
): HttpRequest<z.output<typeof batchResultSchema>> {
  return {
    method: 'POST',
    path: path(type, 'read'),
    query: { archived: readQuery(options).archived },
    body: {
      inputs: ids.map((id) => ({ id })),
      properties: options.properties ?? [],
      propertiesWithHistory: options.propertiesWithHistory ?? [],
      ...(options.idProperty && { idProperty: options.idProperty }),
    },
    schema: batchResultSchema,
  };
}

/**
 * A batch write. Every input carries its index as `objectWriteTraceId`, which turns on HubSpot's
 * multi-status answers: the good inputs are applied and each bad one comes back as its own error
 * (https://developers.hubspot.com/docs/api-reference/error-handling#multi-status-errors), instead of one
 * bad input failing all 100.
 */
export function batchWriteRequest(
  type: string,
  kind: BatchWrite,
  inputs: readonly WriteInput[],
): HttpRequest<z.output<typeof batchResultSchema>> {
  return {
    method: 'POST',
    path: path(type, kind),
    body: {
      inputs: inputs.map((input, i) => ({
        ...(input.id !== undefined && { id: input.id }),
        ...(input.idProperty && { idProperty: input.idProperty }),
        properties: input.properties,
        objectWriteTraceId: String(i),
      })),
    },
    schema: batchResultSchema,
  };
}

export function batchArchiveRequest(type: string, ids: readonly string[]): HttpRequest {
  return { method: 'POST', path: path(type, 'archive'), body: { inputs: ids.map((id) => ({ id })) } };
}

/** A record of a batch answer and the input it answers, by its place in the caller's list. */
export interface BatchResultItem {
  index: number;
  record: BatchItem;
}

/**
 * Splits one chunk's answer into its records and its failures, each tied to the input it answers: a
 * write's by the trace id it was sent with, a read's by the id (or `idProperty` value) it asked for.
 * An error HubSpot ties to no input is given to every input that got no result, so none goes
 * unaccounted.
 */
export function processBatch(
  body: z.output<typeof batchResultSchema>,
  chunk: readonly { id?: string }[],
  offset: number,
  idProperty?: string,
): { results: BatchResultItem[]; failures: BatchFailure[] } {
  const failures: BatchFailure[] = [];
  const placed = new Set<number>();
  const fail = (at: number, error: BatchError) => {
    if (placed.has(at)) return;
    placed.add(at);
    const unknown = unknownPropertiesIn(error.message);
    const id = chunk[at]?.id;
    failures.push({
      index: offset + at,
      ...(id !== undefined && { id }),
      category: error.category,
      message: error.message,
      ...(unknown.length > 0 && { unknownProperties: unknown }),
    });
  };
  const results: BatchResultItem[] = [];
  for (const { objectWriteTraceId, ...record } of body.results) {
    const key = idProperty && idProperty !== 'hs_object_id' ? record.properties[idProperty] : record.id;
    const at =
      objectWriteTraceId !== undefined
        ? Number(objectWriteTraceId)
        : chunk.findIndex((input, i) => !placed.has(i) && sameId(input.id, key, idProperty));
    if (at < 0) continue;
    placed.add(at);
    results.push({ index: offset + at, record: record as BatchItem });
  }
  const unplaced: BatchError[] = [];
  for (const error of body.errors ?? []) {
    const traces = error.context?.objectWriteTraceId;
    const ids = error.context?.ids;
    if (traces) for (const t of traces) fail(Number(t), error);
    else if (ids) {
      chunk.forEach((input, at) => {
        if (input.id !== undefined && ids.includes(input.id)) fail(at, error);
      });
    } else unplaced.push(error);
  }
  if (unplaced.length > 0) for (let at = 0; at < chunk.length; at++) fail(at, unplaced[0]!);
  return {
    results: results.sort((a, b) => a.index - b.index),
    failures: failures.sort((a, b) => a.index - b.index),
  };
}

function sameId(
  asked: string | undefined,
  answered: string | null | undefined,
  idProperty?: string,
): boolean {
  if (asked === undefined || answered === undefined || answered === null) return false;
  return idProperty === 'email' ? asked.toLowerCase() === answered.toLowerCase() : asked === answered;
}
