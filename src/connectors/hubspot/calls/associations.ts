import type { z } from 'zod';
import { z as zod } from 'zod';
import type { HttpRequest } from '../../../http/http-types.js';
import { associatedSchema, associationBatchReadSchema, associationBatchWriteSchema } from '../schemas.js';

/** v4 association batches take at most 1,000 inputs (HubSpot changelog, February 2025). */
export const ASSOCIATION_BATCH_SIZE = 1000;

export interface AssociationSpec {
  associationCategory: 'HUBSPOT_DEFINED' | 'USER_DEFINED';
  associationTypeId: number;
}

const batch = (from: string, to: string, op: string) =>
  `/crm/v4/associations/${encodeURIComponent(from)}/${encodeURIComponent(to)}/batch/${op}`;

/** The associations of many records to one type: `{ inputs: [{ id }] }`. */
export function associationsReadRequest(
  from: string,
  to: string,
  ids: readonly string[],
): HttpRequest<z.output<typeof associationBatchReadSchema>> {
  return {
    method: 'POST',
    path: batch(from, to, 'read'),
    body: { inputs: ids.map((id) => ({ id })) },
    schema: associationBatchReadSchema,
  };
}

/** Links pairs with the default (unlabeled) type, or with the types given. */
export function associationsCreateRequest(
  from: string,
  to: string,
  pairs: readonly { from: string; to: string; types?: readonly AssociationSpec[] }[],
): HttpRequest<z.output<typeof associationBatchWriteSchema>> {
  const typed = pairs.some((p) => p.types?.length);
  return typed
    ? {
        method: 'POST',
        path: batch(from, to, 'create'),
        body: {
          inputs: pairs.map((p) => ({ from: { id: p.from }, to: { id: p.to }, types: p.types ?? [] })),
        },
        schema: associationBatchWriteSchema,
      }
    : {
        method: 'POST',
        path: batch(from, to, 'associate/default'),
        body: { inputs: pairs.map((p) => ({ from: { id: p.from }, to: { id: p.to } })) },
        schema: associationBatchWriteSchema,
      };
}

export function associationsArchiveRequest(
  from: string,
  to: string,
  pairs: readonly { from: string; to: string }[],
): HttpRequest {
  const grouped = new Map<string, string[]>();
  for (const p of pairs) grouped.set(p.from, [...(grouped.get(p.from) ?? []), p.to]);
  return {
    method: 'POST',
    path: batch(from, to, 'archive'),
    body: { inputs: [...grouped].map(([id, tos]) => ({ from: { id }, to: tos.map((t) => ({ id: t })) })) },
  };
}

const recordPage = zod
  .object({
    results: zod.array(associatedSchema),
    paging: zod
      .object({ next: zod.object({ after: zod.string() }).loose().optional() })
      .loose()
      .optional(),
  })
  .loose();

/** One page of a record's associations to a type (at most 500). */
export function recordAssociationsRequest(
  from: string,
  id: string,
  to: string,
  after?: string,
): HttpRequest<z.output<typeof recordPage>> {
  return {
    path: `/crm/v4/objects/${encodeURIComponent(from)}/${encodeURIComponent(id)}/associations/${encodeURIComponent(to)}`,
    query: { limit: 500, after },
    schema: recordPage,
  };
}
