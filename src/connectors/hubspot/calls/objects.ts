import type { z } from 'zod';
import type { HttpRequest } from '../../../http/http-types.js';
import { type HubSpotObject, hubspotObjectSchema, objectPageSchema } from '../schemas.js';

/** What a read returns of each record. */
export interface ReadOptions {
  /** Properties to return; HubSpot's defaults for the type when absent. Unknown names are ignored. */
  properties?: readonly string[];
  propertiesWithHistory?: readonly string[];
  /** Types whose associated ids to include (`companies`). */
  associations?: readonly string[];
  /** Archived records only (`archived=true` means only those). Defaults to false. */
  archived?: boolean;
}

const csv = (values: readonly string[] | undefined) => (values?.length ? values.join(',') : undefined);
const base = (type: string) => `/crm/v3/objects/${encodeURIComponent(type)}`;

export function readQuery(options: ReadOptions) {
  return {
    properties: csv(options.properties),
    propertiesWithHistory: csv(options.propertiesWithHistory),
    associations: csv(options.associations),
    archived: options.archived ? 'true' : undefined,
  };
}

/** `GET /crm/v3/objects/{type}/{id}`, by id or by a unique property (`idProperty: 'email'`). */
export function getObjectRequest(
  type: string,
  id: string,
  options: ReadOptions & { idProperty?: string } = {},
): HttpRequest<HubSpotObject> {
  return {
    path: `${base(type)}/${encodeURIComponent(id)}`,
    query: { ...readQuery(options), idProperty: options.idProperty },
    schema: hubspotObjectSchema,
  };
}

/** One page of `GET /crm/v3/objects/{type}` (at most 100, HubSpot's maximum). */
export function listPageRequest(
  type: string,
  options: ReadOptions & { limit?: number; after?: string } = {},
): HttpRequest<z.output<typeof objectPageSchema>> {
  return {
    path: base(type),
    query: { limit: options.limit ?? 100, after: options.after, ...readQuery(options) },
    schema: objectPageSchema,
  };
}

/** The records of a page and where the next starts (none on the last page). */
export function processPage(body: z.output<typeof objectPageSchema>): {
  results: HubSpotObject[];
  after: string | undefined;
} {
  return { results: body.results, after: body.paging?.next?.after };
}

export function createObjectRequest(
  type: string,
  properties: Record<string, string>,
  associations?: readonly AssociationInput[],
): HttpRequest<HubSpotObject> {
  return {
    method: 'POST',
    path: base(type),
    body: { properties, associations: associations ?? [] },
    schema: hubspotObjectSchema,
  };
}

export function updateObjectRequest(
  type: string,
  id: string,
  properties: Record<string, string>,
  idProperty?: string,
): HttpRequest<HubSpotObject> {
  return {
    method: 'PATCH',
    path: `${base(type)}/${encodeURIComponent(id)}`,
    query: { idProperty },
    body: { properties },
    schema: hubspotObjectSchema,
  };
}

export function archiveObjectRequest(type: string, id: string): HttpRequest {
  return { method: 'DELETE', path: `${base(type)}/${encodeURIComponent(id)}` };
}

/** An association made with a record: the other record and the association type ids. */
export interface AssociationInput {
  to: { id: string };
  types: { associationCategory: 'HUBSPOT_DEFINED' | 'USER_DEFINED'; associationTypeId: number }[];
}
