import { z } from 'zod';
import type { HubSpotAssociation, HubSpotObject } from './schemas.js';

/**
 * The record a HubSpot sync model stores: the properties the sync reads (every one present, `null`
 * when unset, so a list page, a search page and a write's answer give the same shape), the ids of the
 * associated records by type (sorted, each once), and HubSpot's timestamps.
 */
export const crmRecordSchema = z.object({
  id: z.string(),
  properties: z.record(z.string(), z.string().nullable()),
  associations: z.record(z.string(), z.array(z.string())),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type CrmRecord = z.output<typeof crmRecordSchema>;

/** Which properties and associations a model keeps. */
export interface RecordShape {
  readonly properties: readonly string[];
  readonly associations: readonly string[];
}

/** A v3 object (from a list, a search or a batch answer) as the record the sync stores. */
export function crmRecord(raw: HubSpotObject, shape: RecordShape): CrmRecord {
  const properties: Record<string, string | null> = {};
  for (const name of shape.properties) properties[name] = raw.properties[name] ?? null;
  const associations: Record<string, string[]> = {};
  for (const to of shape.associations) {
    const ids = raw.associations?.[to]?.results.map((r) => r.id) ?? [];
    associations[to] = [...new Set(ids)].sort(compareIds);
  }
  return { id: raw.id, properties, associations, createdAt: raw.createdAt, updatedAt: raw.updatedAt };
}

/** v4 associations (a search page's, read apart) in the v3 place a list page has them. */
export function withAssociations(
  raw: HubSpotObject,
  found: ReadonlyMap<string, ReadonlyMap<string, readonly HubSpotAssociation[]>>,
): HubSpotObject {
  const associations: NonNullable<HubSpotObject['associations']> = {};
  for (const [to, byRecord] of found) {
    associations[to] = {
      results: (byRecord.get(raw.id) ?? []).map((a) => ({ id: a.toObjectId, type: 'association' })),
    };
  }
  return { ...raw, associations };
}

/** Numeric ids in numeric order (HubSpot's ids are digits), anything else after, as text. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
