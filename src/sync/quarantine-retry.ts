import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { QuarantinedRecord } from '../store/sync/index.js';
import type { SyncDefinition } from './define-sync.js';
import { busyError, withLease } from './leased-run.js';
import { commitPage } from './page-commit.js';
import type { RunnerSettings, SyncPorts } from './ports.js';
import { type PreparedRecord, prepareRecord } from './prepare-page.js';

export interface RetryResult {
  /** Entries whose record now passed and was stored. */
  stored: string[];
  /** Entries that still fail (their error is updated). */
  failing: { id: string; errorPath: string; error: string }[];
  /** Entries a newer version of the record had already replaced (nothing written). */
  superseded: string[];
}

/**
 * Retries quarantined records with the sync's current definition (after its mapping or schema was
 * fixed): each one goes through transform, validation and hashing again; those that pass are stored
 * with their change events, under the sync's lease, as a page would be. An entry older than the stored
 * version of its record is superseded instead: retrying it would put old data over new.
 */
export async function retryQuarantined(
  ports: SyncPorts,
  settings: RunnerSettings,
  definition: SyncDefinition,
  entryIds: readonly string[] | 'all',
): Promise<RetryResult> {
  const { stores, clock } = ports;
  const entries = await openEntries(ports, definition.id, entryIds);
  const result: RetryResult = { stored: [], failing: [], superseded: [] };
  if (entries.length === 0) return result;
  const held = await withLease(ports, settings, definition, undefined, async ({ lease, signal }) => {
    const state = await stores.state.require(definition.id);
    const stored = await stores.records.getMany(
      definition.id,
      entries.flatMap((e) => (e.externalId === null ? [] : [e.externalId])),
    );
    const ready: PreparedRecord[] = [];
    const readyEntries: string[] = [];
    for (const entry of entries) {
      const current = entry.externalId === null ? undefined : stored.get(entry.externalId);
      if (current && current.updatedAt > entry.createdAt) {
        result.superseded.push(entry.id);
        continue;
      }
      const prepared = prepareRecord(definition, JSON.parse(entry.raw));
      if ('error' in prepared)
        result.failing.push({ id: entry.id, errorPath: prepared.path, error: prepared.error });
      else {
        ready.push(prepared);
        readyEntries.push(entry.id);
      }
    }
    if (ready.length > 0) {
      await commitPage(
        {
          ports,
          definition,
          lease,
          leaseMs: settings.leaseMs,
          runId: null,
          generation: state.generation,
          origin: 'source',
          quarantineOpen: true,
          signal,
        },
        {
          records: ready,
          deleted: [],
          quarantined: [],
          seen: ready.length,
          hasCheckpoint: false,
          checkpoint: undefined,
          complete: true,
          transformMs: 0,
        },
        {},
      );
      result.stored.push(...readyEntries);
    }
    await stores.database.transaction(async (tx) => {
      const now = clock.now();
      await stores.state.fence(tx, lease, now, settings.leaseMs);
      await stores.quarantine.setStatus(tx, result.stored, 'resolved', now, true);
      await stores.quarantine.setStatus(tx, result.superseded, 'superseded', now);
      for (const failing of result.failing)
        await stores.quarantine.retried(tx, failing.id, failing.errorPath, failing.error, now);
    });
  });
  if (!held) throw busyError(definition.id);
  return result;
}

/** Discards quarantined records: they stay listed as `discarded`, and are never stored. */
export async function discardQuarantined(
  ports: SyncPorts,
  syncId: string,
  entryIds: readonly string[] | 'all',
): Promise<string[]> {
  const entries = await openEntries(ports, syncId, entryIds);
  const ids = entries.map((e) => e.id);
  await ports.stores.database.transaction((tx) =>
    ports.stores.quarantine.setStatus(tx, ids, 'discarded', ports.clock.now()),
  );
  return ids;
}

async function openEntries(
  ports: SyncPorts,
  syncId: string,
  ids: readonly string[] | 'all',
): Promise<QuarantinedRecord[]> {
  const { quarantine } = ports.stores;
  if (ids === 'all') {
    const out: QuarantinedRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await quarantine.list(syncId, { status: 'open', limit: 500, ...(after && { after }) });
      out.push(...page.slice(0, 500));
      if (page.length <= 500) return out;
      after = page[499]!.id;
    }
  }
  const out: QuarantinedRecord[] = [];
  for (const id of ids) {
    const entry = await quarantine.get(syncId, id);
    if (!entry)
      throw new PatchbayError(ErrorCode.NOT_FOUND, `sync ${syncId} has no quarantined record ${id}`);
    if (entry.status !== 'open') {
      throw new PatchbayError(ErrorCode.CONFLICT, `quarantined record ${id} is ${entry.status}, not open`);
    }
    out.push(entry);
  }
  return out;
}
