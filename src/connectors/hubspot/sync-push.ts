import { ErrorCode, errorMessage } from '../../core/errors.js';
import type { LocalChange, PushOutcome } from '../../sync/push.js';
import type { BatchFailure, BatchItem } from './calls/batch.js';
import type { HubSpotObjects, Properties } from './hubspot-objects.js';
import type { CrmRecord, RecordShape } from './sync-records.js';

/** Properties HubSpot sets itself: a write naming them is refused, so they are never pushed. */
const READ_ONLY = new Set([
  'hs_object_id',
  'createdate',
  'lastmodifieddate',
  'hs_createdate',
  'hs_lastmodifieddate',
]);

/** HubSpot's answers about the input itself: writing it again cannot succeed. */
const PERMANENT = new Set<string>([
  'VALIDATION_ERROR',
  'OBJECT_NOT_FOUND',
  'CONFLICT',
  'INVALID_EMAIL',
  ErrorCode.UNKNOWN_PROPERTIES,
  ErrorCode.INVALID_ARGUMENT,
]);

export interface CrmPushOptions {
  shape: RecordShape;
  /** Upsert by this unique property (the records' key); else update by HubSpot id. */
  idProperty?: string;
  createMissingProperties: boolean;
  signal: AbortSignal;
}

/**
 * Writes a sync's local changes to HubSpot: the properties that changed (read-only ones left out) by
 * batch upsert on `idProperty`, or batch update by id, in chunks of 100, each change's outcome its
 * own (a 207 applies the good inputs); deletes archive. What is stored afterwards is HubSpot's answer,
 * so the write reading back is recognised as ours.
 */
export async function crmPush(
  objects: HubSpotObjects,
  changes: readonly LocalChange<CrmRecord>[],
  options: CrmPushOptions,
): Promise<PushOutcome<CrmRecord>[]> {
  const outcomes: PushOutcome<CrmRecord>[] = [];
  const archives = changes.filter((c) => c.data === null);
  if (archives.length > 0) {
    // By HubSpot id: a key by idProperty is not the id, the stored record has it.
    const ids = archives
      .map((c) => (options.idProperty ? c.base?.id : c.id))
      .filter((id): id is string => typeof id === 'string');
    try {
      if (ids.length > 0) await objects.batchArchive(ids, { signal: options.signal });
      for (const c of archives) outcomes.push({ id: c.id, ok: true });
    } catch (error) {
      for (const c of archives) outcomes.push({ id: c.id, ok: false, error: errorMessage(error) });
    }
  }

  const writes: { change: LocalChange<CrmRecord>; data: CrmRecord; properties: Properties }[] = [];
  for (const change of changes) {
    const data = change.data;
    if (data === null) continue;
    if (!options.idProperty && change.base === undefined) {
      outcomes.push({
        id: change.id,
        ok: false,
        retryable: false,
        error:
          'a record new to HubSpot can only be created by a sync with idProperty (email, domain…); this one writes by HubSpot id',
      });
      continue;
    }
    const properties = changedProperties(change.base?.properties, data.properties);
    if (Object.keys(properties).length === 0) {
      outcomes.push({ id: change.id, ok: true });
      continue;
    }
    writes.push({ change, data, properties });
  }
  if (writes.length === 0) return outcomes;

  const inputs = writes.map((w) => ({ id: w.change.id, properties: w.properties }));
  const common = { createMissingProperties: options.createMissingProperties, signal: options.signal };
  const result = options.idProperty
    ? await objects.batchUpsert(inputs, { ...common, idProperty: options.idProperty })
    : await objects.batchUpdate(inputs, common);
  for (const { index, record } of result.results) {
    const { change, data } = writes[index]!;
    outcomes.push({ id: change.id, ok: true, record: answered(data, record, options.shape) });
  }
  for (const failure of result.failures) {
    outcomes.push({
      id: writes[failure.index]!.change.id,
      ok: false,
      error: `HubSpot ${failure.category}: ${failure.message}`,
      retryable: !isPermanent(failure),
    });
  }
  return outcomes;
}

function isPermanent(failure: BatchFailure): boolean {
  return PERMANENT.has(failure.category);
}

/** The writable properties whose value differs from the stored one (all of a new record's). */
function changedProperties(
  base: Readonly<Record<string, string | null>> | undefined,
  next: Readonly<Record<string, string | null>>,
): Properties {
  const out: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(next)) {
    if (READ_ONLY.has(name)) continue;
    if (base !== undefined && (base[name] ?? null) === (value ?? null)) continue;
    if (base === undefined && value === null) continue;
    out[name] = value;
  }
  return out;
}

/** The record as HubSpot has it after the write: its id and values, the local associations. */
function answered(data: CrmRecord, record: BatchItem, shape: RecordShape): CrmRecord {
  const properties: Record<string, string | null> = {};
  for (const name of shape.properties) {
    properties[name] =
      name in record.properties ? (record.properties[name] ?? null) : (data.properties[name] ?? null);
  }
  const associations: Record<string, string[]> = {};
  for (const to of shape.associations) associations[to] = data.associations?.[to] ?? [];
  return {
    id: record.id,
    properties,
    associations,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
