import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { measureSync } from '../core/loop-block.js';
import type { IncomingRecord, NewQuarantined } from '../store/sync/index.js';
import { canonicalJson, recordHash } from './canonical-json.js';
import { externalId, type SyncDefinition, type SyncRecord, valueAt } from './define-sync.js';
import type { Checkpoint, SyncPage } from './page.js';

export interface PreparedRecord extends IncomingRecord {
  /** The validated record. */
  value: SyncRecord;
}

/** A page after transform, validation and dedupe: what one commit stores. */
export interface PreparedPage {
  /** Valid records, one per id (the last of a page wins). */
  records: PreparedRecord[];
  /** Tombstones not also among `records`. */
  deleted: string[];
  quarantined: NewQuarantined[];
  /** Records the page held before dedupe (valid or not). */
  seen: number;
  hasCheckpoint: boolean;
  checkpoint: Checkpoint | undefined;
  complete: boolean;
  /** Time the definition's `transform` took over the page's records, in ms (the loop was held for it). */
  transformMs: number;
}

/**
 * Maps, validates and hashes one page. A record that fails goes to the quarantine (with its id when one
 * can be found, the path that failed and the raw data) and the page goes on; a page that is not a page
 * at all is a `RESPONSE_INVALID` error of the run — before anything of it is written.
 */
export function preparePage(definition: SyncDefinition, page: SyncPage, now: number): PreparedPage {
  if (typeof page !== 'object' || page === null || !Array.isArray(page.records)) {
    throw new PatchbayError(
      ErrorCode.RESPONSE_INVALID,
      `sync ${definition.id}: fetch yielded ${page === null ? 'null' : typeof page} instead of a page { records: [...] }`,
    );
  }
  const byId = new Map<string, PreparedRecord>();
  const quarantined: NewQuarantined[] = [];
  const quarantine = (raw: unknown, errorPath: string, error: string, id: string | undefined) => {
    const found = id ?? (definition.keyPath ? externalId(valueAt(raw, definition.keyPath)) : undefined);
    quarantined.push({
      id: newId('qr', now),
      externalId: found ?? null,
      errorPath,
      error,
      raw: rawText(raw),
    });
    if (found !== undefined) byId.delete(found);
  };
  let transformMs = 0;
  const timing = (ms: number) => {
    transformMs += ms;
  };
  for (const raw of page.records) {
    const prepared = prepareRecord(definition, raw, timing);
    if ('error' in prepared) quarantine(raw, prepared.path, prepared.error, prepared.id);
    else byId.set(prepared.id, prepared);
  }
  const deleted = tombstones(definition, page.deleted).filter((id) => !byId.has(id));
  return {
    records: [...byId.values()],
    deleted,
    quarantined,
    seen: page.records.length,
    hasCheckpoint: Object.hasOwn(page, 'checkpoint') && page.checkpoint !== undefined,
    checkpoint: page.checkpoint,
    complete: page.complete !== false,
    transformMs,
  };
}

type Prepared = PreparedRecord | { error: string; path: string; id?: string };

/** One record through transform, schema, key and hash; also used by quarantine retries and writes. */
export function prepareRecord(
  definition: SyncDefinition,
  raw: unknown,
  onTransformed?: (ms: number) => void,
): Prepared {
  let mapped: unknown = raw;
  const { transform } = definition;
  if (transform) {
    try {
      mapped = onTransformed ? measureSync(() => transform(raw), onTransformed) : transform(raw);
    } catch (err) {
      return { error: `transform failed: ${errorMessage(err)}`, path: 'transform' };
    }
  }
  const parsed = definition.schema.safeParse(mapped);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const first = issues[0];
    const path = first && first.path.length > 0 ? first.path.map(String).join('.') : '(record)';
    const error = issues
      .slice(0, 5)
      .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(record)'}: ${i.message}`)
      .join('; ');
    const id = definition.keyPath ? externalId(valueAt(mapped, definition.keyPath)) : undefined;
    return { error, path, ...(id !== undefined && { id }) };
  }
  const value = parsed.data;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'a record must be a JSON object', path: '(record)' };
  }
  let id: string;
  try {
    id = definition.keyOf(value);
  } catch (err) {
    return { error: errorMessage(err), path: 'key' };
  }
  let data: string;
  let hash: string;
  try {
    data = canonicalJson(value);
    hash = recordHash(value, definition.volatile, data);
  } catch (err) {
    return { error: errorMessage(err), path: '(record)', id };
  }
  return { id, data, hash, value, modifiedAt: definition.modifiedAt?.(value) ?? null };
}

function tombstones(definition: SyncDefinition, deleted: unknown): string[] {
  if (deleted === undefined) return [];
  if (!Array.isArray(deleted)) {
    throw new PatchbayError(
      ErrorCode.RESPONSE_INVALID,
      `sync ${definition.id}: a page's deleted must be a list of ids, got ${typeof deleted}`,
    );
  }
  const out = new Set<string>();
  for (const value of deleted) {
    const id = externalId(value);
    if (id === undefined) {
      throw new PatchbayError(
        ErrorCode.RESPONSE_INVALID,
        `sync ${definition.id}: a page's deleted holds ${JSON.stringify(value)}, not an id`,
      );
    }
    out.add(id);
  }
  return [...out];
}

function rawText(raw: unknown): string {
  try {
    return canonicalJson(raw);
  } catch {
    return JSON.stringify(String(raw));
  }
}
