import type { AssociationStore } from './association-store.js';
import type { CrmStore, StoredRecord } from './crm-store.js';

export interface ViewRequest {
  properties?: readonly string[];
  /** The properties a write set, which its answer shows besides the defaults. */
  written?: readonly string[];
  propertiesWithHistory?: readonly string[];
  associations?: readonly string[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A record as v3 answers it: every value a string (or null when a named property is unset), the
 * defaults when no property is named, unknown names silently left out.
 */
export function viewRecord(
  store: CrmStore,
  associations: AssociationStore,
  record: StoredRecord,
  request: ViewRequest,
  values: Readonly<Record<string, string>> = record.properties,
): Record<string, unknown> {
  const definitions = store.type(record.type.name).properties;
  const { type } = record;
  // Named properties come with the three HubSpot always sends; a write's answer has what it wrote.
  const names = request.properties?.length
    ? [...request.properties, 'hs_object_id', type.createdProperty, type.modifiedProperty]
    : request.written
      ? [...type.defaultProperties, ...request.written]
      : type.defaultProperties;
  const properties: Record<string, string | null> = {};
  for (const name of names) {
    if (definitions.has(name)) properties[name] = values[name] ?? null;
  }
  const view: Record<string, unknown> = {
    id: record.id,
    properties,
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
    archived: record.archived,
  };
  if (record.archivedAt !== undefined) view.archivedAt = iso(record.archivedAt);
  if (request.propertiesWithHistory?.length) {
    const history: Record<string, unknown> = {};
    for (const name of request.propertiesWithHistory) {
      if (definitions.has(name)) history[name] = record.history[name] ?? [];
    }
    view.propertiesWithHistory = history;
  }
  if (request.associations?.length) {
    const found: Record<string, unknown> = {};
    for (const name of request.associations) {
      if (!store.hasType(name)) continue;
      const to = store.type(name).type;
      const results = associations
        .list(record.type, record.id, to)
        .flatMap(({ toObjectId, associationTypes }) =>
          associationTypes.map((t) => ({ id: toObjectId, type: associations.v3Name(record.type, to, t) })),
        );
      if (results.length > 0) found[to.name] = { results };
    }
    if (Object.keys(found).length > 0) view.associations = found;
  }
  return view;
}
